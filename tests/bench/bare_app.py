"""The bench's bare row: a stateful Flask app on the server payemu uses, answering each measured path with
the body payemu answers, and nothing else (no contracts, scenarios, journal, masking).

Run by tests/bench.py as `python tests/bench/bare_app.py PORT ANSWERS.json`, where the JSON file maps
each path to `{"status", "content_type", "body"}`. Its imports are kept to what it serves with, so its
cold start is Flask's and granian's own.
"""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

from flask import Flask, Response, request

from emulator.serving import EmbeddedServer, tune_gc


def bare_app(answers: dict[str, dict[str, Any]]) -> Flask:
    """One POST route per path: parse the body (JSON or form), count the call under a lock, answer."""
    app = Flask("bare")
    lock = threading.Lock()
    state: dict[str, Any] = {"calls": 0, "last": None}

    def handle() -> Response:
        body = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        with lock:
            state["calls"] += 1
            state["last"] = body
        answer = answers[request.path]
        return Response(answer["body"], answer["status"], content_type=answer["content_type"])

    for number, path in enumerate(answers):
        app.add_url_rule(path, f"answer_{number}", handle, methods=["POST"])
    app.add_url_rule("/bench/callbacks", "callbacks", lambda: "OK", methods=["POST"])  # payemu's callbacks land here
    return app


def main() -> None:
    """Serve as `payemu serve` does: the GC tuned after start-up, granian embedded, inline RSGI."""
    port, answers_file = int(sys.argv[1]), sys.argv[2]
    with open(answers_file, encoding="utf-8") as handle:
        app = bare_app(json.load(handle))
    tune_gc()
    EmbeddedServer(app, "127.0.0.1", port).run()


if __name__ == "__main__":
    main()
