"""Payture wire format (docs/providers/payture.md#transport): the `DATA` parameter in its three encodings, and XML
replies.

Reply data has the shape `{"tag": "Init", "attrs": {...}, "children": [{"tag": "Item", "attrs": {...}}]}`;
contracts validate that data, then `XmlEncoder` renders it. Attribute order is kept as given (recorded
bodies list `Success` first on most commands, last on `Pay`).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, unquote_plus

from flask import Request

from emulator.core.codecs import FormCodec
from emulator.core.provider import current_request

XML_CONTENT_TYPE = "text/xml; charset=utf-8"  # (code, recorded) docs/providers/payture.md#transport
JSON_CONTENT_TYPE = "application/json"
PATH_PREFIX = "/vwapi/"
UNSET = "None"  # some clients (Python str(None)) send the literal for fields they did not set
_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")
_ENCODED_SEPARATOR = re.compile(r"%(?:3[Dd]|3[Bb])")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_XML_SPECIAL = re.compile(r'[&<>"\n\r\t]')
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode_data(raw: str) -> dict[str, str]:
    """Decode a form-decoded `DATA` value into its keys (the (inferred) algorithm of
    docs/providers/payture.md#transport).

    Accepts the plain form (C# SDK), per-value URL-encoding joined with `;` (Necronru's
    `http_build_query`), and the whole string URL-encoded twice (droff, recorded); keys in any
    order, a trailing `;`, values holding `?`, `&` and `=`, and drops the literal `None`.
    """
    text = raw
    # Step 2: a doubly encoded DATA still shows %3D/%3B and no '=' after the HTTP layer decoded it.
    if "=" not in text and _ENCODED_SEPARATOR.search(text):
        text = unquote(text)
    data: dict[str, str] = {}
    for segment in text.split(";"):
        if not segment.strip():
            continue
        key, _, value = segment.partition("=")
        key = _unescape(key).strip()
        value = _unescape(value)
        if not key or value == UNSET:
            continue
        data[key] = value
    return data


def _unescape(text: str) -> str:
    # Step 5: only values that carry %XX were encoded per value (http_build_query also turns ' ' into '+').
    return unquote_plus(text) if _ESCAPED.search(text) else text


_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def command_from_path(path: str) -> str:
    """`/vwapi/Init` → `Init`; the first segment after the prefix (hosted pages add more)."""
    rest = path[len(PATH_PREFIX) :] if path.startswith(PATH_PREFIX) else path.strip("/")
    command = rest.split("/", 1)[0]
    return command if _XML_NAME.fullmatch(command) else "Error"  # an unknown path names the root element


def request_params(req: Request) -> dict[str, Any]:
    """Query and form merged (form wins), `DATA` decoded into a dict when present."""
    merged: dict[str, Any] = dict(req.args.items())
    merged.update(req.form.items())
    if isinstance(merged.get("DATA"), str):
        merged["DATA"] = decode_data(merged["DATA"])
    return merged


def current_call() -> tuple[str, dict[str, Any]]:
    """The command and decoded parameters of the request being served (for errors raised anywhere)."""
    served = current_request()
    if served is None:
        return "Error", {}
    try:
        return command_from_path(served.path), request_params(served)
    except Exception:  # an unreadable body still gets an error in the right root element
        return command_from_path(served.path), {}


def serving_wrapper() -> bool:
    """Whether the request being served is outside `/vwapi/` (the JSON V21 wrapper)."""
    served = current_request()
    return served is not None and not served.path.startswith(PATH_PREFIX)


def escape_attr(value: Any) -> str:
    return _XML_SPECIAL.sub(lambda m: _XML_ESCAPES[m.group(0)], _XML_INVALID.sub("", str(value)))


def render(element: dict[str, Any]) -> str:
    """Render `{"tag", "attrs", "children"}` as recorded: no declaration, `<Tag A="1" />` when empty."""
    attrs = "".join(f' {name}="{escape_attr(value)}"' for name, value in (element.get("attrs") or {}).items())
    children = element.get("children") or []
    if not children:
        return f"<{element['tag']}{attrs} />"
    inner = "".join(render(child) for child in children)
    return f"<{element['tag']}{attrs}>{inner}</{element['tag']}>"


class XmlEncoder:
    """Payture's reply encoder: one root element named after the command, attributes only."""

    content_type = XML_CONTENT_TYPE

    def decode(self, req: Request) -> Any:  # pragma: no cover - the form codec decodes
        raise NotImplementedError

    def encode(self, body: Any) -> tuple[bytes, str]:
        if body is None:
            return b"", self.content_type
        if isinstance(body, dict) and "tag" not in body:  # the V21 wrapper's JSON (its 404/405/400 under /api/)
            return json.dumps(body, separators=(",", ":")).encode("utf-8"), JSON_CONTENT_TYPE
        return render(body).encode("utf-8"), self.content_type


class PaytureCodec(FormCodec):
    """Query + form merged (docs/providers/payture.md#transport: GET, POST form, and POST with an empty body all occur),
    `DATA` decoded."""

    def __init__(self) -> None:
        super().__init__(encoder=XmlEncoder())

    def decode(self, req: Request) -> Any:
        merged = super().decode(req)
        if isinstance(merged.get("DATA"), str):
            merged["DATA"] = decode_data(merged["DATA"])
        return merged

    def wire_schema(self, schema: Any) -> Any:
        """The body contract as sent (for `payemu openapi`): each `DATA` object becomes its `Key=Value;` string."""
        if isinstance(schema, list):
            return [self.wire_schema(item) for item in schema]
        if not isinstance(schema, dict):
            return schema
        out = {key: self.wire_schema(value) for key, value in schema.items()}
        data = (schema.get("properties") or {}).get("DATA")
        if isinstance(data, dict):
            fields = ", ".join(data.get("properties") or {}) or "see the command"
            out["properties"] = {**out["properties"], "DATA": _data_string(data, fields)}
        return out


def _data_string(data: dict[str, Any], fields: str) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "string",
        "pattern": "^([A-Za-z0-9]+=[^;]*;)*([A-Za-z0-9]+=[^;]*)?$",
        # docs/providers/payture.md#wire
        "description": f"Key=Value pairs joined by ';', values URL-encoded or not: {fields}",
    }
    if data.get("examples"):
        schema["examples"] = [";".join(f"{k}={v}" for k, v in example.items()) for example in data["examples"]]
    return schema


def element(tag: str, attrs: dict[str, Any], children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Build reply data; every attribute value is a string on the wire."""
    node: dict[str, Any] = {"tag": tag, "attrs": {k: "" if v is None else str(v) for k, v in attrs.items()}}
    if children:
        node["children"] = children
    return node
