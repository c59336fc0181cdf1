"""`payemu replay --from-recording`: recorded exchanges turned into a replay document (core/replay.py).

Each recorded request becomes a `request` step expecting the recorded status, content type and body.
A value a response issued (a token, a session or invoice id) that a later request sends back is
captured with `save` and sent as `${var}`; a noise field (ids, timestamps, tokens, signatures, URLs,
anything masked) is only expected to exist. Secrets the client sent (redacted in the recording) become
`variables` named after their field, to be given with `--var NAME=VALUE`; masked card numbers become
the provider's test card with the same first six and last four digits (else a Luhn-valid number of
that shape), masked CVVs `123`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask

from emulator.core.cards import TestCards
from emulator.drift import family, is_noise_field
from emulator.recording import REDACTED, is_masked, restore_card_data

_DROPPED_HEADERS = frozenset({"content-length", "host", "accept-encoding", "connection", "user-agent"})
_MAX_LEAVES = 60
_SECRET_CONTEXT = r"""([A-Za-z_][A-Za-z0-9_-]*)["']?\s*[:=]\s*["']?(?:[A-Za-z]+ )?{tag}"""
_LOOKS_GENERATED = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-|^\d{4}-\d\d-\d\dT|^eyJ")
UNSET = "REDACTED"


def _leaves(data: Any, prefix: str = "") -> Iterable[tuple[str, str, Any]]:
    """(dotted path, last key, value) of every scalar in JSON data."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            if "." not in str(key):
                yield from (
                    _leaves(value, f"{prefix}{key}.")
                    if isinstance(value, (Mapping, list))
                    else [(f"{prefix}{key}", str(key), value)]
                )
    elif isinstance(data, list):
        for index, value in enumerate(data):
            last = prefix.rstrip(".").rsplit(".", 1)[-1]
            yield from (
                _leaves(value, f"{prefix}{index}.")
                if isinstance(value, (Mapping, list))
                else [(f"{prefix}{index}", last, value)]
            )


def _xml_attrs(text: str) -> tuple[str, list[tuple[str, str]]]:
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return "", []
    return root.tag, [(name, value) for node in root.iter() for name, value in node.attrib.items()]


def _captures(response: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """(value, save source, last key) of the response values a later request might send back."""
    text = response.get("body") or ""
    media = family({k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-type", ""))
    found: list[tuple[str, Any, str]] = []
    if media == "json" and text.strip():
        try:
            for path, key, value in _leaves(json.loads(text)):
                if isinstance(value, (str, int)) and not isinstance(value, bool) and len(str(value)) >= 6:
                    found.append((str(value), path, key))
        except ValueError:
            pass
    elif media == "xml":
        for name, value in _xml_attrs(text)[1]:
            if len(value) >= 6:
                found.append((value, {"regex": f'{name}="([^"]*)"'}, name))
    return found


def _variable(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "value"
    base = base if not base[0].isdigit() else f"v_{base}"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    taken.add(candidate)
    return candidate


def _test_cards(app: Flask) -> dict[tuple[str, str], str]:
    cards: dict[tuple[str, str], str] = {}
    for provider in app.extensions["payemu"].providers.values():
        path = provider.folder / "cards.yaml"
        if path.is_file():
            for card in TestCards.load(path):
                cards.setdefault((card.pan[:6], card.pan[-4:]), card.pan)
    return cards


def _expect(response: Mapping[str, Any], captured: set[str]) -> dict[str, Any]:
    expect: dict[str, Any] = {"status": int(response["status"])}
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    text = response.get("body") or ""
    media_type = headers.get("content-type", "").split(";")[0].strip()
    if media_type and text.strip():
        expect["headers"] = {"Content-Type": {"regex": "^" + re.escape(media_type)}}
    media = family(media_type)
    if media == "json" and text.strip():
        try:
            data = json.loads(text)
        except ValueError:
            return expect
        body: dict[str, Any] = {}
        for path, key, value in list(_leaves(data))[:_MAX_LEAVES]:
            noisy = is_masked(value) or is_noise_field(key) or path in captured
            noisy = noisy or (isinstance(value, str) and bool(_LOOKS_GENERATED.search(value)))
            body[path] = {"exists": True} if noisy else value
        if body:
            expect["body"] = body
    elif media == "xml":
        tag, attrs = _xml_attrs(text)
        if tag:
            expect["body_contains"] = [
                f"<{tag}",
                *[f'{name}="{value}"' for name, value in attrs if not is_noise_field(name) and not is_masked(value)][
                    :_MAX_LEAVES
                ],
            ]
    return expect


def to_replay(exchanges: Iterable[Mapping[str, Any]], app: Flask, description: str = "") -> dict[str, Any]:
    """A replay document (scenarios/replay.schema.json) of the recorded exchanges, in recorded order."""
    recorded = [e for e in exchanges if not e.get("error")]
    cards = _test_cards(app)
    taken: set[str] = set()
    variables: dict[str, Any] = {}
    secrets: dict[str, str] = {}  # redaction tag -> variable name
    issued: dict[str, tuple[int, Any, str]] = {}  # value -> (step index, save source, variable)
    client_values: set[str] = set()
    steps: list[dict[str, Any]] = []
    for index, exchange in enumerate(recorded):
        req = exchange["request"]
        headers = {k: v for k, v in (req.get("headers") or {}).items() if k.lower() not in _DROPPED_HEADERS}
        path = req["path"] + (f"?{req['query']}" if req.get("query") else "")
        body = req.get("body") or ""
        fields = {"path": path, "body": body, **{f"header {k}": v for k, v in headers.items()}}
        request_text = "\n".join(fields.values())
        for value in sorted(issued, key=len, reverse=True):  # a value a response issued, sent back
            if value in request_text:
                step_index, source, variable = issued[value]
                steps[step_index].setdefault("save", {})[variable] = source
                fields = {k: v.replace(value, "${" + variable + "}") for k, v in fields.items()}
        for tag in sorted(set(REDACTED.findall("\n".join(fields.values())))):  # a secret the client holds
            if tag not in secrets:
                context = re.search(_SECRET_CONTEXT.format(tag=tag), "\n".join(fields.values()))
                name = context.group(1) if context else next((k[7:] for k, v in fields.items() if tag in v), "secret")
                secrets[tag] = _variable(f"{exchange['provider']}_{name}", taken)
                variables[secrets[tag]] = UNSET
            fields = {k: v.replace(tag, "${" + secrets[tag] + "}") for k, v in fields.items()}
        client_values.update(v for v in re.split(r"[\s\"'=&;:,{}\[\]/?]+", request_text) if len(v) >= 6)
        spec: dict[str, Any] = {"method": req["method"], "path": restore_card_data(fields.pop("path"), cards)}
        body = restore_card_data(fields.pop("body"), cards)
        sent_headers = {k[7:]: v for k, v in fields.items()}
        if sent_headers:
            spec["headers"] = sent_headers
        if body:
            spec["data"] = body
        for value, source, key in _captures(exchange["response"]):
            if value not in client_values:
                issued[value] = (index, source, _variable(f"{key}_{index + 1}", taken))
        name = f"#{exchange.get('seq', index + 1)} {exchange['provider']} {req['method']} {req['path']}"
        steps.append({"name": name, "request": spec})
    for step, exchange in zip(steps, recorded, strict=True):  # a captured value is only expected to exist
        saved = step.pop("save", {})
        step["expect"] = _expect(exchange["response"], {s for s in saved.values() if isinstance(s, str)})
        if saved:
            step["save"] = dict(sorted(saved.items()))
    document: dict[str, Any] = {"description": description or f"{len(steps)} recorded exchange(s)", "steps": steps}
    if variables:
        document["variables"] = variables
    return document
