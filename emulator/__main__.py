"""`python -m emulator` runs the payemu command."""

import sys

from emulator.cli import main

sys.exit(main())
