"""Toy's state: tokens issued (claims signed, expiry on the virtual clock), uses, expiry callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.core import tokens
from emulator.core.tenants import Tenant
from tests.core.toy import errors

TOKEN_LIFETIME = 900


@dataclass
class ToyState:
    tenant: Tenant
    issued: dict[str, float] = field(default_factory=dict)  # token id -> expiry
    used: set[str] = field(default_factory=set)
    expired_before: float = 0.0  # tokens issued up to this instant are expired (scenario action)
    announced: set[str] = field(default_factory=set)  # tokens whose expiry was called back

    def issue(self, token_id: str, *, now: float) -> str:
        self.issued[token_id] = now + TOKEN_LIFETIME
        claims = {"merchant": self.tenant.id, "jti": token_id, "iat": now, "exp": now + TOKEN_LIFETIME}
        return tokens.encode(claims, self.tenant["secret"])

    def accept(self, claims: dict[str, Any], *, now: float, single_use: bool) -> str:
        token_id = str(claims.get("jti"))
        if token_id not in self.issued:
            raise errors.TokenRejected()
        if now >= self.issued[token_id] or claims["iat"] <= self.expired_before:
            raise errors.TokenExpired()
        if single_use and token_id in self.used:
            raise errors.TokenUsed()
        self.used.add(token_id)
        return token_id

    def newly_expired(self, now: float) -> list[str]:
        """Tokens past their expiry not announced yet (each is announced once)."""
        due = [t for t, expiry in self.issued.items() if expiry <= now and t not in self.announced]
        self.announced.update(due)
        return due

    def scenario_expire_tokens(self, *, now: float) -> None:
        self.expired_before = now
