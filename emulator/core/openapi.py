"""Build an OpenAPI 3.1 document from the app's routes, the contract files and the provider manifests.

What a fuzzer needs to get past the front door comes from data, not from per-provider code here:
- auth: each manifest's `auth` (security schemes; `x-payemu-auth` says where other credentials travel);
- request encodings: the operation's codec (`request_media_types`; `wire_schema` for a body that is
  not sent as decoded, Payture's `DATA`); a form codec's fields are query parameters on GET;
- headers and query parameters: the request contract's `headers` / `query` parts (`$ref`s followed);
- response media types per status: the codec's, or a response contract's `contentMediaType`
  (HTML pages) — on the status schema or on one of its `anyOf`/`oneOf` branches;
- browser proxies: each manifest's `proxies` prefixes serve the provider's operations again.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask

from emulator.core.codecs import Codec
from emulator.core.provider import Provider
from emulator.core.runtime import Runtime

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([A-Za-z_][A-Za-z0-9_]*)>")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OpenAPI 3.1 Parameter Object: ignored
_NO_BODY = frozenset({"GET", "DELETE"})
_MAX_DEPTH = 32
_CORS_HEADERS = {
    name: {"schema": {"type": "string"}, "required": True}
    for name in ("Access-Control-Allow-Origin", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods")
}


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


class _Schemas:
    """The contract documents, navigable across `$ref`s, and where each node sits in components/schemas."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents

    def node(self, doc_key: str, pointer: str) -> Any:
        node: Any = self.documents[doc_key]
        for part in filter(None, pointer.split("/")):
            name = part.replace("~1", "/").replace("~0", "~")
            node = node[int(name)] if isinstance(node, list) else node[name]
        return node

    def follow(self, doc_key: str, pointer: str) -> tuple[str, str, Any]:
        """The schema at `pointer`, after its `$ref`s: (document, pointer, schema)."""
        node = self.node(doc_key, pointer)
        for _ in range(_MAX_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            target, _, fragment = node["$ref"].partition("#")
            if target:
                doc_key = f"{doc_key.split('/', 1)[0]}/{target}"
            pointer = fragment
            node = self.node(doc_key, pointer)
        return doc_key, pointer, node

    def child(self, doc_key: str, pointer: str, *names: str) -> tuple[str, str, Any] | None:
        """Walk `names` down from a schema, following `$ref`s at each step (None: not declared)."""
        doc_key, pointer, node = self.follow(doc_key, pointer)
        for name in names:
            if not isinstance(node, dict) or name not in node:
                return None
            escaped = name.replace("~", "~0").replace("/", "~1")
            doc_key, pointer, node = self.follow(doc_key, f"{pointer}/{escaped}")
        return doc_key, pointer, node

    @staticmethod
    def ref(doc_key: str, pointer: str) -> dict[str, str]:
        provider, file_name = doc_key.split("/", 1)
        return {"$ref": f"#/components/schemas/{_schema_key(provider, file_name)}{pointer}"}

    def inline(self, doc_key: str, node: Any, depth: int = 0) -> Any:
        """A copy of `node` with every `$ref` replaced by what it names (for codecs that reshape a body)."""
        if depth > _MAX_DEPTH:
            return {}
        if isinstance(node, list):
            return [self.inline(doc_key, item, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            target, _, fragment = node["$ref"].partition("#")
            target_key = f"{doc_key.split('/', 1)[0]}/{target}" if target else doc_key
            resolved = self.inline(target_key, self.node(target_key, fragment), depth + 1)
            siblings = {k: self.inline(doc_key, v, depth + 1) for k, v in node.items() if k != "$ref"}
            return {**resolved, **siblings} if isinstance(resolved, dict) else resolved
        return {k: self.inline(doc_key, v, depth + 1) for k, v in node.items() if k not in ("$id", "$schema")}

    def branches(self, doc_key: str, pointer: str) -> Iterator[dict[str, Any]]:
        """The alternatives of a status schema: itself, or each of its `anyOf`/`oneOf` branches."""
        doc_key, pointer, node = self.follow(doc_key, pointer)
        if not isinstance(node, dict):
            return
        if "contentMediaType" in node:
            yield node
            return
        combined = [(k, i) for k in ("anyOf", "oneOf") for i in range(len(node.get(k) or ()))]
        if not combined:
            yield node
        for keyword, index in combined:
            yield self.follow(doc_key, f"{pointer}/{keyword}/{index}")[2]


def _parameters(
    schemas: _Schemas, request_key: str, rule_params: list[str], query_codec: Codec | None
) -> list[dict[str, Any]]:
    """Path parameters, the contract's headers and query, and (a form codec on GET) the body's fields."""
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
        for name in rule_params
    ]
    if request_key not in schemas.documents:
        return parameters
    seen: set[tuple[str, str]] = set()
    for location, where in (("headers", "header"), ("query", "query")):
        section = schemas.child(request_key, "", "properties", location)
        if section is None or not isinstance(section[2], dict):
            continue
        doc_key, pointer, node = section
        required = set(node.get("required", []))
        for name in node.get("properties", {}):
            if (where == "header" and name in _IGNORED_HEADERS) or (name, where) in seen:
                continue
            seen.add((name, where))
            escaped = name.replace("~", "~0").replace("/", "~1")
            schema = schemas.ref(doc_key, f"{pointer}/properties/{escaped}")
            parameters.append({"name": name, "in": where, "required": name in required, "schema": schema})
    body = (_wire_body(schemas, request_key, query_codec) if query_codec is not None else None) or {}
    fields: dict[str, Any] = {}
    for part in [body, *body.get("anyOf", ()), *body.get("oneOf", ())]:
        fields.update(part.get("properties") or {})
    for name, schema in fields.items():
        if (name, "query") not in seen:
            seen.add((name, "query"))
            # required in the body, but a GET may carry none of it: the provider answers its own error
            parameters.append({"name": name, "in": "query", "required": False, "schema": schema})
    return parameters


def _wire_body(schemas: _Schemas, request_key: str, codec: Codec) -> dict[str, Any] | None:
    """The body contract inlined, reshaped by the codec's `wire_schema` where it has one."""
    body = schemas.child(request_key, "", "properties", "body")
    if body is None:
        return None
    inlined = schemas.inline(body[0], body[2])
    wire_schema = getattr(codec, "wire_schema", None)
    return wire_schema(inlined) if wire_schema is not None else inlined


def _request_body(schemas: _Schemas, request_key: str, codec: Codec) -> dict[str, Any] | None:
    """The body in each encoding the codec reads; a codec's `wire_schema` reshapes its own encoding."""
    body = schemas.child(request_key, "", "properties", "body")
    if body is None:
        return None
    doc_key, pointer, _node = body
    content: dict[str, Any] = {}
    for media_type in codec.request_media_types:
        if hasattr(codec, "wire_schema") and media_type == "application/x-www-form-urlencoded":
            content[media_type] = {"schema": _wire_body(schemas, request_key, codec)}
        else:
            content[media_type] = {"schema": schemas.ref(doc_key, pointer)}
    required = "body" in schemas.node(request_key, "").get("required", [])
    return {"required": required, "content": content}


def _responses(schemas: _Schemas, provider: str, operation: str, statuses: list[int], codec: Codec) -> dict:
    """Each status with the media types it is really answered in (`contentMediaType`, else the codec's)."""
    doc_key = f"{provider}/{operation}.response.json"
    data_type = codec.encode(None)[1].split(";")[0]
    responses: dict[str, Any] = {}
    for status in statuses:
        pointer = f"/$defs/{status}"
        content: dict[str, Any] = {}
        for branch in schemas.branches(doc_key, pointer):
            media_type = branch.get("contentMediaType")
            if media_type:
                content.setdefault(media_type, {"schema": {"type": "string"}})
            else:
                content.setdefault(data_type, {"schema": schemas.ref(doc_key, pointer)})
        described = [schemas.node(doc_key, pointer), schemas.follow(doc_key, pointer)[2]]
        texts = [n.get("description") or n.get("title") for n in described if isinstance(n, dict)]
        description = next((text for text in texts if text), f"{status} response")
        responses[str(status)] = {"description": description, "content": content}
    return responses


def _security(provider: Provider, operation: str) -> tuple[list[dict[str, list]], list[dict[str, str]]]:
    """The OpenAPI security requirements of an operation, and its credentials in words (`x-payemu-auth`)."""
    guards = provider.auth_of(operation)
    requirements: list[dict[str, list]] = [{f"{provider.name}.{n}": []} for n, a in guards if a.scheme is not None]
    if requirements and any(a.scheme is None or a.optional for _n, a in guards):
        requirements.append({})  # the credentials may travel outside any standard scheme instead
    described = [{"name": f"{provider.name}.{n}", "credentials": a.credentials} for n, a in guards if a.credentials]
    return requirements, described


def _operation_id(base: str, method: str, methods: set[str], path: str, taken: set[str]) -> str:
    """`provider.operation`, then `.method` for a second method, then the path for a second route."""
    candidates = [base] if method == "POST" or len(methods) == 1 else []
    candidates += [f"{base}.{method.lower()}"]
    slug = "_".join(part for part in path.strip("/").split("/") if not part.startswith("{"))
    candidates += [f"{base}.{method.lower()}.{slug}"]
    return next((c for c in candidates if c not in taken), f"{base}.{method.lower()}.{len(taken)}")


def build_openapi(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI 3.1 description of every emulated operation."""
    from emulator import __version__

    runtime: Runtime = app.extensions["payemu"]
    contracts = runtime.contracts
    schemas = _Schemas(contracts.documents)
    components: dict[str, Any] = {}
    for doc_key, document in contracts.documents.items():
        provider_name, file_name = doc_key.split("/", 1)
        key = _schema_key(provider_name, file_name)
        components[key] = _rewrite(copy.deepcopy(document), provider_name, key)
    security_schemes = {
        f"{p.name}.{name}": dict(auth.scheme)
        for p in runtime.providers.values()
        for name, auth in p.auth.items()
        if auth.scheme is not None
    }
    paths: dict[str, Any] = {}
    taken: set[str] = set()
    # the shortest of an operation's routes first: it keeps the plain operationId
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule.count("/"), r.rule, r.endpoint)):
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, "payemu_operation", None)
        if operation is None:
            continue
        provider = runtime.providers[rule.endpoint.split(".", 1)[0]]
        codec: Codec = getattr(view, "payemu_codec", None) or provider.codec
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        request_key = f"{provider.name}/{operation}.request.json"
        responses = _responses(
            schemas, provider.name, operation, contracts.response_statuses(provider.name, operation), codec
        )
        security, credentials = _security(provider, operation)
        methods = set(rule.methods or ()) - {"HEAD", "OPTIONS"}
        for method in sorted(methods):
            base = f"{provider.name}.{operation}"
            entry: dict[str, Any] = {
                "operationId": _operation_id(base, method, methods, path, taken),
                "tags": [provider.name],
                "parameters": _parameters(
                    schemas,
                    request_key,
                    _CONVERTER.findall(rule.rule),
                    codec if method in _NO_BODY and codec.query_is_body else None,
                ),
                "security": security,
                "responses": responses,
            }
            if credentials:
                entry["x-payemu-auth"] = credentials
            body = _request_body(schemas, request_key, codec) if method not in _NO_BODY else None
            if body is not None:
                entry["requestBody"] = body
            taken.add(entry["operationId"])
            paths.setdefault(path, {})[method.lower()] = entry
            for prefix in provider.proxies:
                proxied_path = prefix.rstrip("/") + path
                proxied = {**entry, "operationId": f"{entry['operationId']}.proxy"}
                paths.setdefault(proxied_path, {})[method.lower()] = proxied
                paths[proxied_path]["options"] = {
                    "operationId": f"{entry['operationId']}.proxy.preflight",
                    "tags": [provider.name],
                    "responses": {"204": {"description": "CORS preflight", "headers": _CORS_HEADERS}},
                }
                taken.update((proxied["operationId"], paths[proxied_path]["options"]["operationId"]))
    return {
        "openapi": "3.1.0",
        "info": {"title": "payemu — emulated payment-provider APIs", "version": __version__},
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [{"name": p.name, "description": p.description} for p in runtime.providers.values()],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": components, "securitySchemes": security_schemes},
    }
