"""Zai's wire formats (docs/providers/zai.md): `/tokens` takes a form or JSON, the core API JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import Request

from emulator.core.codecs import JSON_CONTENT_TYPE, DecodeError, FormCodec, JsonCodec, parse_json, request_bytes


class TokenRequestCodec:
    """`POST /tokens` bodies: form-urlencoded (the gem, code) or JSON (the OpenAPI, doc); JSON out
    (docs/providers/zai.md#access-tokens)."""

    request_media_types = ("application/x-www-form-urlencoded", "application/json")
    query_is_body = False

    def __init__(self) -> None:
        self._form = FormCodec()
        self._json = JsonCodec()

    def decode(self, request: Request) -> Any:
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            body = self._form.decode(request)
            return body or None
        data = request_bytes(request)
        if mimetype.endswith("json") or data.lstrip().startswith(b"{"):
            return self._json.decode(request)
        if not data.strip():
            return None
        try:  # (inferred) a form body without its Content-Type, as curl -d sends it
            pairs = parse_qsl(data.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DecodeError("Request body is neither JSON nor a form") from exc
        return dict(pairs)

    def encode(self, body: Any) -> tuple[bytes, str]:
        return self._json.encode(body)


class CoreCodec:
    """JSON both ways; an undecodable body becomes its text, so the bearer check still comes first
    (the token is checked at the gateway before any body is read) and the contract then refuses it."""

    request_media_types = ("application/json",)
    query_is_body = False

    def __init__(self) -> None:
        self._json = JsonCodec(JSON_CONTENT_TYPE)

    def decode(self, request: Request) -> Any:
        data = request_bytes(request)
        if not data.strip():
            return None
        try:
            return parse_json(data)
        except DecodeError:
            return data.decode("utf-8", "replace")

    def encode(self, body: Any) -> tuple[bytes, str]:
        return self._json.encode(body)


TOKEN_CODEC = TokenRequestCodec()
CORE_CODEC = CoreCodec()
