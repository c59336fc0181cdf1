"""Request builders for Toy (tests of the core)."""

from __future__ import annotations

from typing import Any

M1, KEY1, M2, KEY2 = "m1", "key-one-0000000", "m2", "key-two-0000000"


def token_body(**changes: Any) -> dict[str, Any]:
    body = {"merchant": M1, "key": KEY1, "amount": "15.00", **changes}
    return {k: v for k, v in body.items() if v is not None}


def issue(client: Any, headers: dict[str, str] | None = None, **changes: Any) -> Any:
    return client.post("/toy/tokens", json=token_body(**changes), headers=headers or {})


def token(client: Any, **changes: Any) -> str:
    response = issue(client, **changes)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def bearer(value: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", **extra}


def lookup(client: Any, tok: str, item: str = "apple", **headers: str) -> Any:
    return client.post("/toy/lookup", json={"item": item}, headers=bearer(tok, **headers))


def notify(client: Any, tok: str, item: str = "apple", **headers: str) -> Any:
    return client.post("/toy/notify", json={"item": item}, headers=bearer(tok, **headers))
