"""payemu: a contract-testing sandbox emulator of payment-provider APIs."""

from emulator.app import create_app

__version__ = "0.1.0"
__all__ = ["__version__", "create_app"]
