"""The registered providers: one line each."""

from emulator.core.provider import Provider
from emulator.providers.ecommpay import PROVIDER as ECOMMPAY
from emulator.providers.izipay import PROVIDER as IZIPAY
from emulator.providers.payelata import PROVIDER as PAYELATA
from emulator.providers.payture import PROVIDER as PAYTURE
from emulator.providers.zai import PROVIDER as ZAI

PROVIDERS: tuple[Provider, ...] = (
    IZIPAY,
    ZAI,
    PAYTURE,
    ECOMMPAY,
    PAYELATA,
)
