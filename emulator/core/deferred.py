"""What the pipeline leaves for the serving adapter (emulator/serving.py) to enact after the app has
answered: a scenario's latency and a dropped connection, as keys of the WSGI environ. A module of its
own so that the adapter imports none of the pipeline (the bench's bare row is served through it too)."""

DELAY_ENVIRON = "payemu.delay_ms"
FAULT_ENVIRON = "payemu.fault"
