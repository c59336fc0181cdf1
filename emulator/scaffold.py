"""`payemu new-provider NAME`: write a new provider with the fixed file roles (docs/architecture.md).

The result runs as it is (one authenticated, stateful operation with its contracts, a default scenario,
a client and tests), so `payemu check` and the layout tests pass before any real work starts; each
file says what to replace with the provider's documented behaviour.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

REGISTRY = "emulator/providers/__init__.py"

PROVIDER_INIT = '''"""{title}: customers, as a starting point (docs/providers/{name}.md)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.provider import Call, Provider
from emulator.providers.{name} import errors
from emulator.providers.{name}.model import {cls}State
from emulator.providers.{name}.routes import authenticate, bp

# Every open question about the provider becomes an option with its best-evidenced default, documented
# with its evidence in docs/providers/{name}.md; set per tenant, per scenario or `--option {name}.NAME=VALUE`.
OPTIONS = {{
    "unique_emails": True,  # (inferred) replace with what the provider documents
}}


def contract_error(call: Call, violations: list[Violation]) -> errors.{cls}Error:
    """A request that breaks its contract: the provider's validation error, naming the first field."""
    first = violations[0]
    return errors.ValidationFailed(first.field or first.location, first.message)


PROVIDER = Provider(
    name="{name}",
    description="{title}: customers (scaffold)",
    blueprint=bp,
    state_class={cls}State,
    authenticate=authenticate,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    paths=("/{name}/",),
    folder=Path(__file__).parent,
    options=OPTIONS,
)
'''

ROUTES = '''"""{title} views at the provider's real paths: thin, they ask the model and return data."""

from __future__ import annotations

from flask import Blueprint

from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.{name} import errors

bp = Blueprint("{name}", __name__)

CUSTOMERS_PATH = "/{name}/v1/customers"


def authenticate(call: Call) -> Tenant:
    """`Authorization: Bearer <api_key>` names the tenant (replace with the provider's real scheme)."""
    scheme, _, key = call.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    tenant = call.runtime.tenants["{name}"].find(api_key=key) if scheme.lower() == "bearer" and key else None
    if tenant is None:
        raise errors.Unauthorized()
    return tenant


@bp.route(CUSTOMERS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("create_customer")
def create_customer(call: Call) -> Reply:
    """Create a customer; an e-mail address already taken is a conflict."""
    customer = call.state.create_customer(
        call.body["email"], now=call.now, new_id=call.uuid4, unique=call.flag("unique_emails")
    )
    return Reply(201, customer.to_wire())
'''

MODEL = '''"""{title}'s rules in plain Python: methods take `now`, raise the provider's errors, know no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from emulator.core.clock import iso
from emulator.core.tenants import Tenant
from emulator.providers.{name} import errors


@dataclass
class Customer:
    id: str
    email: str
    created: float

    def to_wire(self) -> dict[str, str]:
        return {{"id": self.id, "email": self.email, "created_at": iso(self.created)}}


@dataclass
class {cls}State:
    """One tenant's state; the core keeps one per (provider, tenant), under its lock."""

    tenant: Tenant
    customers: dict[str, Customer] = field(default_factory=dict)

    def create_customer(self, email: str, *, now: float, new_id: Callable[[], str], unique: bool) -> Customer:
        if unique and any(c.email == email for c in self.customers.values()):
            raise errors.Conflict(f"email {{email}} is already taken")
        customer = Customer(new_id(), email, now)
        self.customers[customer.id] = customer
        return customer
'''

ERRORS = '''"""{title}'s error envelope and the named errors scenarios may inject (replace with the real envelope)."""

from __future__ import annotations

from typing import Any

from emulator.core.errors import ProviderError


class {cls}Error(ProviderError):
    """`{{"error": {{"code": ..., "message": ...}}}}` with the HTTP status."""

    code = "error"

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, status=status)
        if code is not None:
            self.code = code

    def body(self, now: float) -> Any:
        return {{"error": {{"code": self.code, "message": self.message}}}}


class Unauthorized({cls}Error):
    status, code = 401, "unauthorized"

    def __init__(self) -> None:
        super().__init__("Missing or invalid API key.")


class ValidationFailed({cls}Error):
    status, code = 400, "invalid_request"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{{field}}: {{detail}}")


class Conflict({cls}Error):
    status, code = 409, "conflict"


class NotFound({cls}Error):
    status, code = 404, "not_found"

    def __init__(self) -> None:
        super().__init__("No such resource.")


class MethodNotAllowed({cls}Error):
    status, code = 405, "method_not_allowed"

    def __init__(self) -> None:
        super().__init__("Method not allowed.")


class PlatformFailure({cls}Error):
    status, code = 500, "internal_error"

    def __init__(self) -> None:
        super().__init__("Internal error.")


CATALOGUE = {{"platform_failure": PlatformFailure, "unauthorized": Unauthorized}}
'''

TENANTS = """# Sample {title} tenants. `api_key` authenticates (Authorization: Bearer <api_key>);
# `options` override the provider's defaults for that tenant.
- id: sample
  api_key: "sk_test_{name}_sample_0001"
"""

ERROR_CONTRACT = """{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "{title} error body",
  "type": "object",
  "required": ["error"],
  "additionalProperties": false,
  "properties": {{
    "error": {{
      "type": "object",
      "required": ["code", "message"],
      "additionalProperties": false,
      "properties": {{"code": {{"type": "string"}}, "message": {{"type": "string"}}}}
    }}
  }}
}}
"""

REQUEST_CONTRACT = """{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "POST /{name}/v1/customers",
  "type": "object",
  "required": ["body"],
  "properties": {{
    "body": {{
      "type": "object",
      "required": ["email"],
      "properties": {{"email": {{"type": "string", "pattern": "^[^@\\\\s]+@[^@\\\\s]+$", "maxLength": 254}}}}
    }}
  }}
}}
"""

RESPONSE_CONTRACT = """{{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "POST /{name}/v1/customers responses by status",
  "$defs": {{
    "201": {{
      "type": "object",
      "required": ["id", "email", "created_at"],
      "additionalProperties": false,
      "properties": {{"id": {{"type": "string"}}, "email": {{"type": "string"}}, "created_at": {{"type": "string"}}}}
    }},
    "400": {{"$ref": "error.json"}},
    "401": {{"$ref": "error.json"}},
    "409": {{"$ref": "error.json"}},
    "500": {{"$ref": "error.json"}}
  }}
}}
"""

DEFAULT_SCENARIO = """description: The documented happy behaviour of {title}; no rules, every call goes to the model.
rules: []
"""

CLIENT = '''"""{cls}Client: the {title} calls as an integrator makes them (standard library and requests only)."""

from __future__ import annotations

from typing import Any

from emulator.clients._http import HttpClient, error_class


class {cls}Client:
    def __init__(self, base_url: str, api_key: str, **http: Any) -> None:
        self.http = HttpClient(base_url, **http)
        self.api_key = api_key

    def create_customer(self, email: str) -> dict[str, Any]:
        headers = {{"Authorization": f"Bearer {{self.api_key}}"}}
        response = self.http.request("POST", "/{name}/v1/customers", json={{"email": email}}, headers=headers)
        body = response.json()
        if response.status_code != 201:
            error = body.get("error", {{}})
            status = response.status_code
            raise error_class(status)(status, error.get("message", ""), code=error.get("code"))
        return body
'''

TEST_ROUTES = '''"""{title} over HTTP (Flask test client): success, bad input, auth, and state."""

from __future__ import annotations

from emulator.providers.{name}.routes import CUSTOMERS_PATH

AUTH = {{"Authorization": "Bearer sk_test_{name}_sample_0001"}}


def test_create_customer_then_the_same_email_conflicts(client):
    created = client.post(CUSTOMERS_PATH, json={{"email": "a@example.com"}}, headers=AUTH)
    assert created.status_code == 201 and created.get_json()["email"] == "a@example.com"
    again = client.post(CUSTOMERS_PATH, json={{"email": "a@example.com"}}, headers=AUTH)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_bad_input_is_the_providers_validation_error_and_changes_no_state(client, runtime):
    response = client.post(CUSTOMERS_PATH, json={{"email": "not-an-email"}}, headers=AUTH)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_request"
    assert runtime.store.peek("{name}", "sample") is None


def test_unknown_api_key_is_401(client):
    wrong = {{"Authorization": "Bearer nope"}}
    response = client.post(CUSTOMERS_PATH, json={{"email": "a@example.com"}}, headers=wrong)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
'''

TEST_MODEL = '''"""{title}'s model without HTTP."""

from __future__ import annotations

import pytest

from emulator.core.tenants import Tenant
from emulator.providers.{name} import errors
from emulator.providers.{name}.model import {cls}State


def test_emails_are_unique_only_when_asked():
    state = {cls}State(Tenant("{name}", "t", {{}}))
    ids = iter(["c1", "c2", "c3"])
    state.create_customer("a@example.com", now=0.0, new_id=lambda: next(ids), unique=True)
    with pytest.raises(errors.Conflict):
        state.create_customer("a@example.com", now=0.0, new_id=lambda: next(ids), unique=True)
    state.create_customer("a@example.com", now=0.0, new_id=lambda: next(ids), unique=False)
    assert len(state.customers) == 2
'''

DOC = """# {title}

Scaffolded by `payemu new-provider {name}`. Replace each section with the provider's documented behaviour,
tagging every fact with its evidence: (recorded), (doc), (code) or (inferred), and its public source.

## Operations

| operation | path | auth |
|---|---|---|
| `create_customer` | `POST /{name}/v1/customers` | `Authorization: Bearer <api_key>` |

## Options

<!-- options:begin -->
| option | default | meaning |
|---|---|---|
| `unique_emails` | `true` | (inferred) an e-mail address belongs to one customer only |
<!-- options:end -->
"""


def files(name: str) -> dict[str, str]:
    """The files of a new provider `name`, by path relative to the repository root."""
    title = name.replace("_", " ").title()
    cls = "".join(part.title() for part in name.split("_"))
    values = {"name": name, "title": title, "cls": cls}
    provider = f"emulator/providers/{name}"
    return {
        f"{provider}/__init__.py": PROVIDER_INIT.format(**values),
        f"{provider}/routes.py": ROUTES.format(**values),
        f"{provider}/model.py": MODEL.format(**values),
        f"{provider}/errors.py": ERRORS.format(**values),
        f"{provider}/tenants.yaml": TENANTS.format(**values),
        f"contracts/{name}/error.json": ERROR_CONTRACT.format(**values),
        f"contracts/{name}/create_customer.request.json": REQUEST_CONTRACT.format(**values),
        f"contracts/{name}/create_customer.response.json": RESPONSE_CONTRACT.format(**values),
        f"scenarios/{name}/default.yaml": DEFAULT_SCENARIO.format(**values),
        f"emulator/clients/{name}.py": CLIENT.format(**values),
        f"tests/providers/{name}/__init__.py": "",
        f"tests/providers/{name}/test_routes.py": TEST_ROUTES.format(**values),
        f"tests/providers/{name}/test_model.py": TEST_MODEL.format(**values),
        f"docs/providers/{name}.md": DOC.format(**values),
    }


def register(registry: Path, name: str) -> None:
    """Add the provider's import and its line in `PROVIDERS` to the registry module."""
    text = registry.read_text(encoding="utf-8")
    constant = name.upper()
    import_line = f"from emulator.providers.{name} import PROVIDER as {constant}\n"
    last_import = max(m.end() for m in re.finditer(r"^from emulator\.providers\.\w+ import .*\n", text, re.M))
    text = text[:last_import] + import_line + text[last_import:]
    closing = text.rindex(")")
    text = text[:closing] + f"    {constant},\n" + text[closing:]
    registry.write_text(text, encoding="utf-8")


def new_provider(root: Path, name: str) -> list[Path]:
    """Write provider `name` under `root` (a repository checkout) and register it; return the files written."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValueError(f"provider name {name!r}: lower-case letters, digits and _, starting with a letter")
    planned = {root / path: text for path, text in files(name).items()}
    taken = [path for path in planned if path.exists()]
    if taken or (root / "emulator" / "providers" / name).exists():
        raise ValueError(f"provider {name!r} exists already ({taken[0] if taken else name})")
    for path, text in planned.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    register(root / REGISTRY, name)
    return list(planned)
