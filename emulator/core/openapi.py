"""Build an OpenAPI 3.1 document from the app's routes and the contract files."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Flask

from emulator.core.runtime import Runtime

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")


def _schema_key(provider: str, file_name: str) -> str:
    return f"{provider}.{file_name.removesuffix('.json')}"


def _rewrite(node: Any, provider: str, key: str) -> Any:
    """Point relative and local `$ref`s at components/schemas; drop `$id`/`$schema`."""
    if isinstance(node, dict):
        out = {}
        for name, value in node.items():
            if name in ("$id", "$schema"):
                continue
            if name == "$ref" and isinstance(value, str):
                target, _, fragment = value.partition("#")
                base = f"#/components/schemas/{_schema_key(provider, target) if target else key}"
                out[name] = base + fragment
            else:
                out[name] = _rewrite(value, provider, key)
        return out
    if isinstance(node, list):
        return [_rewrite(item, provider, key) for item in node]
    return node


def build_openapi(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of every emulated operation."""
    from emulator import __version__

    runtime: Runtime = app.extensions["payemu"]
    contracts = runtime.contracts
    schemas: dict[str, Any] = {}
    for doc_key, document in contracts.documents.items():
        provider, file_name = doc_key.split("/", 1)
        key = _schema_key(provider, file_name)
        schemas[key] = _rewrite(copy.deepcopy(document), provider, key)
    paths: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions[rule.endpoint], "payemu_operation", None)
        if operation is None:
            continue
        provider_name = rule.endpoint.split(".", 1)[0]
        provider = runtime.providers[provider_name]
        _body, media_type = provider.codec.encode(None)
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        request_key = f"{provider_name}/{operation}.request.json"
        request_doc = contracts.documents.get(request_key, {})
        parts = request_doc.get("properties", {})
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _CONVERTER.findall(rule.rule)
        ]
        for location, where in (("headers", "header"), ("query", "query")):
            section = parts.get(location, {})
            required = set(section.get("required", []))
            for name in section.get("properties", {}):
                ref = f"#/components/schemas/{_schema_key(provider_name, request_key.split('/')[1])}"
                parameters.append(
                    {
                        "name": name,
                        "in": where,
                        "required": name in required,
                        "schema": {"$ref": f"{ref}/properties/{location}/properties/{name}"},
                    }
                )
        responses = {
            str(status): {
                "description": f"{status} response",
                "content": {
                    media_type.split(";")[0]: {
                        "schema": {
                            "$ref": f"#/components/schemas/{_schema_key(provider_name, operation + '.response.json')}"
                            f"/$defs/{status}"
                        }
                    }
                },
            }
            for status in contracts.response_statuses(provider_name, operation)
        }
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            entry: dict[str, Any] = {
                "operationId": f"{provider_name}.{operation}"
                + ("" if method in ("POST", "GET") else f".{method.lower()}"),
                "tags": [provider_name],
                "parameters": parameters,
                "responses": responses or {"default": {"description": "see the provider's spec"}},
            }
            if "body" in parts and method not in ("GET", "DELETE"):
                body_ref = (
                    f"#/components/schemas/{_schema_key(provider_name, request_key.split('/')[1])}/properties/body"
                )
                entry["requestBody"] = {"content": {media_type.split(";")[0]: {"schema": {"$ref": body_ref}}}}
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": "payemu — emulated payment-provider APIs", "version": __version__},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [{"name": p.name, "description": p.description} for p in runtime.providers.values()],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas},
    }
