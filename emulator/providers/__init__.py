"""The registered providers: one line each."""

from emulator.core.provider import Provider
from emulator.providers.izipay import PROVIDER as IZIPAY
from emulator.providers.payture import PROVIDER as PAYTURE

PROVIDERS: tuple[Provider, ...] = (
    IZIPAY,
    PAYTURE,
)
