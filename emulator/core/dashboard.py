"""The dashboard at /__admin/ui: a static page (HTML, CSS, vanilla JS in core/ui/) over the admin API.

The page and its assets carry no data, so they load without the admin token; the page asks for the
token (a login form) and sends it as `Authorization: Bearer` with every admin call it makes. The same
cross-origin rules as the admin API apply, and a strict Content-Security-Policy keeps it to its own files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, send_from_directory

from emulator.core.admin import cross_origin

UI_DIR = Path(__file__).with_name("ui")
DASHBOARD_PATH = "/__admin/ui"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)

dashboard = Blueprint(
    "__admin_ui", __name__, url_prefix=DASHBOARD_PATH, static_folder=str(UI_DIR), static_url_path="/assets"
)


@dashboard.before_request
def _same_origin_only() -> Any:
    refused = cross_origin()
    if refused is not None:
        return jsonify({"error": f"cross-origin admin request refused: {refused}"}), 403
    return None


@dashboard.after_request
def _lock_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@dashboard.get("")
def page() -> Response:
    """The dashboard's single page; everything else it shows comes from the admin API."""
    response = send_from_directory(UI_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
