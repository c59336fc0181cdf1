"""Hosted pages (card forms, 3-DS, results): rendered through the app's Jinja environment.

Each provider keeps its templates in `providers/<p>/pages/`; the app addresses them as
`<provider>/<template>` (see `create_app`), autoescaped because they end in `.html`.
"""

from __future__ import annotations

from typing import Any

from flask import render_template

from emulator.core.errors import Reply

HTML_CONTENT_TYPE = "text/html; charset=utf-8"


def render_page(template: str, status: int = 200, **context: Any) -> Reply:
    """Render `<provider>/<template>` as an HTML reply (pre-encoded: the provider's codec is bypassed)."""
    html = render_template(template, **context)
    return Reply(status, raw=html.encode("utf-8"), content_type=HTML_CONTENT_TYPE)
