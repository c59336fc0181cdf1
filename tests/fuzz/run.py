"""`make fuzz`: schemathesis against a live `payemu serve --strict` on a free loopback port.

Exports the OpenAPI document, starts the server, runs schemathesis with `tests/fuzz/hooks.py` (sample
credentials, live-state sample cases, Payture's XML), stops the server, and prints the numbers: cases,
server errors, failed checks, and the operations that never reached a 2xx. Exit status 0 only when all
three are zero.

    python -m tests.fuzz.run [--max-examples N] [--max-time SECONDS] [--seed N]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from emulator.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Response conformance, and no 5xx: what "a client cannot tell payemu from the provider" needs of a fuzzer.
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@dataclass
class Summary:
    cases: int = 0
    server_errors: int = 0
    failures: int = 0  # schemathesis' failed checks (unique failures it reports)
    errors: int = 0  # schemathesis' own errors (a case it could not generate or run)
    exit_code: int = 0
    without_2xx: list[str] = field(default_factory=list)
    operations: int = 0
    output: str = ""
    statuses: dict[str, collections.Counter] = field(default_factory=dict)  # operationId -> status -> calls

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.server_errors and not self.without_2xx

    def line(self) -> str:
        return (
            f"fuzz: {self.cases} cases over {self.operations} operations, {self.server_errors} server errors, "
            f"{self.failures} failures, {self.errors} fuzzer errors, {len(self.without_2xx)} operations without a 2xx"
            + "".join(f"\n  {op}: {dict(self.statuses.get(op, {}))}" for op in self.without_2xx)
        )


def _wait_until_up(url: str, server: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"payemu serve exited with {server.returncode}")
        try:
            requests.get(url + "/__admin/health", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("payemu serve did not come up")


def run(max_examples: int = 20, max_time: int = 120, seed: int = 1, workers: int = 1, phases: str = PHASES) -> Summary:
    """One bounded fuzz run; the server it starts is stopped before it returns."""
    from emulator import create_app
    from emulator.core.openapi import build_openapi

    with tempfile.TemporaryDirectory(prefix="payemu-fuzz-") as tmp:
        spec = Path(tmp) / "openapi.json"
        document = build_openapi(create_app())
        spec.write_text(json.dumps(document))
        log = Path(tmp) / "calls.jsonl"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = [str(BIN / "payemu"), "serve", "--strict", "--host", "127.0.0.1", "--port", str(port), "--seed", "1"]
        server = subprocess.Popen(serve, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_until_up(url, server)
            command = [
                str(BIN / "schemathesis"), "run", str(spec), "--url", url,
                "--checks", CHECKS, "--max-examples", str(max_examples),
                "--seed", str(seed), "--workers", str(workers), "--phases", phases, "--max-redirects", "0",
                "--generation-with-security-parameters", "false", "--request-timeout", "10",
                "--no-color", "--suppress-health-check", "all", "--generation-database", "none",
            ]  # fmt: skip
            if max_time:  # fuzzing and stateful repeat until the budget is spent; 0: each phase runs once
                command += ["--max-time", str(max_time)]
            env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks", "PAYEMU_FUZZ_URL": url}
            env["PAYEMU_FUZZ_LOG"] = str(log)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            # run in the temporary directory: schemathesis keeps its caches in the working directory
            done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, check=False)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        summary = Summary(exit_code=done.returncode, output=done.stdout + done.stderr)
        operations = [op["operationId"] for item in document["paths"].values() for op in item.values()]
        summary.operations = len(operations)
        statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        for line in log.read_text().splitlines() if log.exists() else []:
            call = json.loads(line)
            statuses[call["operation"]][call["status"]] += 1
        summary.statuses = statuses
        summary.cases = sum(sum(c.values()) for c in statuses.values())
        summary.server_errors = sum(n for c in statuses.values() for s, n in c.items() if s >= 500)
        summary.without_2xx = [op for op in operations if not any(200 <= s < 300 for s in statuses[op])]
        # the closing line: "== 11 failures, 2 warnings in 60.09s ==", "== 1 error, … ==", "== 3 warnings … =="
        closing = next((ln for ln in reversed(summary.output.splitlines()) if ln.startswith("==")), "")
        counts = {kind.rstrip("s"): int(n) for n, kind in re.findall(r"(\d+) (failures?|errors?)", closing)}
        summary.failures, summary.errors = counts.get("failure", 0), counts.get("error", 0)
        return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=300, help="time budget of the run, seconds (0: none)")
    parser.add_argument("--seed", type=int, default=1)
    # one worker: hypothesis' lambda descriptions call ast.parse, which CPython 3.11 does not make thread-safe
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--phases", default=PHASES, help="schemathesis phases, comma-separated")
    parser.add_argument("--verbose", action="store_true", help="print schemathesis' own report")
    args = parser.parse_args(argv)
    summary = run(args.max_examples, args.max_time, args.seed, args.workers, args.phases)
    if args.verbose or not summary.ok:
        print(summary.output)
    print(summary.line())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
