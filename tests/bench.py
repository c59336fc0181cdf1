"""`make bench`: throughput, p50/p99 and memory of the token endpoints under load, next to a bare Flask
endpoint on the same server in the same run, and the cold start to the first answer.

Load comes from wrk (16 connections, 2 threads) on loopback. Not collected by pytest.
Usage: python tests/bench.py [--duration 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from emulator.testing import free_port

MERCHANT = "4007701"
PUBLIC_KEY = "VErEthUtraQUxas57wUMuquprADrAHAb"
TOKEN_BODY = {
    "requestSource": "ECOMMERCE",
    "merchantCode": MERCHANT,
    "orderNumber": "R202211101518",
    "publicKey": PUBLIC_KEY,
    "amount": "15.00",
}


def bare_app():
    """The comparison row: a bare stateful Flask endpoint (JSON in, JSON out, a locked counter)."""
    from flask import Flask, jsonify, request

    app = Flask("bare")
    lock = threading.Lock()
    state = {"n": 0}

    @app.post("/bare")
    def bare():
        body = request.get_json()
        with lock:
            state["n"] += 1
            n = state["n"]
        return jsonify({"code": "00", "message": "OK", "response": {"n": n, "merchantCode": body["merchantCode"]}})

    return app


def serve_bare(port: int) -> None:
    """Serve the bare app exactly as `payemu serve` serves the emulator (granian embedded, inline RSGI)."""
    from emulator.serving import EmbeddedServer

    EmbeddedServer(bare_app(), "127.0.0.1", port).run()


def start(command: list[str], url: str) -> tuple[subprocess.Popen, float]:
    """Start a server; return it and the seconds from launch to its first answer."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            requests.get(url, timeout=0.5)
            return process, time.perf_counter() - started
        except requests.ConnectionError:
            if process.poll() is not None:
                raise SystemExit(f"server exited: {command}") from None
            time.sleep(0.002)


def rss_mb(pid: int) -> float:
    output = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout
    return int(output.strip() or 0) / 1024


def lua(path: str, body: dict, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}"]
    lines += [
        f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}"
        for k, v in {"Content-Type": "application/json", **headers}.items()
    ]
    lines.append(f'wrk.path = "{path}"')
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    return script.name


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: str, duration: int, connections: int) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.M))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": to_ms(latency["50"]),
        "p99": to_ms(latency["99"]),
        "non2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "errors": errors.group(1) if errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if shutil.which("wrk") is None:
        print("make bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 1
    python = sys.executable
    root = Path(__file__).resolve().parent.parent

    cold = []
    for _ in range(5):
        port = free_port()
        process, seconds = start(
            [python, "-m", "emulator", "serve", "--port", str(port)], f"http://127.0.0.1:{port}/__admin/health"
        )
        cold.append(seconds)
        process.terminate()
        process.wait(10)

    bare_port, emu_port = free_port(), free_port()
    bare, _ = start(
        [python, str(root / "tests" / "bench.py"), "--serve-bare", str(bare_port)], f"http://127.0.0.1:{bare_port}/"
    )
    emu, _ = start(
        [python, "-m", "emulator", "serve", "--port", str(emu_port)],
        f"http://127.0.0.1:{emu_port}/__admin/health",
    )
    # The same Token/Generate on the persistent stores (each call changes the merchant's state).
    workdir = tempfile.mkdtemp(prefix="payemu-bench-")
    redis_server = shutil.which("redis-server")
    redis_port, sqlite_port, on_redis_port = free_port(), free_port(), free_port()
    stores = [("SQLite store", sqlite_port, f"sqlite:///{workdir}/bench.db")]
    redis = None
    if redis_server:
        redis = subprocess.Popen(
            [redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        stores.append(("Redis store", on_redis_port, f"redis://127.0.0.1:{redis_port}/0"))
        time.sleep(0.3)
    on_stores = [
        (
            label,
            start(
                [python, "-m", "emulator", "serve", "--port", str(port), "--store", url],
                f"http://127.0.0.1:{port}/__admin/health",
            )[0],
            f"http://127.0.0.1:{port}",
        )
        for label, port, url in stores
    ]
    rows = []
    try:
        emu_url, bare_url = f"http://127.0.0.1:{emu_port}", f"http://127.0.0.1:{bare_port}"
        token = requests.post(
            emu_url + "/security/v1/Token/Generate", json=TOKEN_BODY, headers={"transactionId": "TXBENCH01"}
        ).json()["response"]["token"]
        cases = [
            ("bare Flask endpoint", bare, bare_url, lua("/bare", TOKEN_BODY, {"transactionId": "TXBENCH01"})),
            (
                "Token/Generate (full pipeline)",
                emu,
                emu_url,
                lua("/security/v1/Token/Generate", TOKEN_BODY, {"transactionId": "TXBENCH01"}),
            ),
            (
                "Installments/Search (full pipeline)",
                emu,
                emu_url,
                lua(
                    "/Installments/v1/Installments/Search",
                    {"bin": "545545", "merchantCode": MERCHANT, "language": "ESP"},
                    {"transactionId": "TXBENCH01", "Authorization": f"Bearer {token}"},
                ),
            ),
        ]
        cases += [
            (
                f"Token/Generate ({label})",
                process,
                url,
                lua("/security/v1/Token/Generate", TOKEN_BODY, {"transactionId": "TXBENCH01"}),
            )
            for label, process, url in on_stores
        ]
        for name, process, url, script in cases:
            wrk(url, script, 2, args.connections)  # warm-up
            result = wrk(url, script, args.duration, args.connections)
            result["rss"] = rss_mb(process.pid)
            rows.append((name, result))
            os.unlink(script)
        journal = requests.get(emu_url + "/__admin/health").json()["journal_total"]
    finally:
        for process in (bare, emu, *(p for _, p, _ in on_stores), *([redis] if redis else [])):
            process.terminate()
            process.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)

    bare_row = rows[0][1]
    print(
        f"\npayemu bench — wrk -t2 -c{args.connections} -d{args.duration}s, "
        "server: granian embedded + inline RSGI, 1 process\n"
    )
    print(
        f"{'endpoint':42} {'req/s':>9} {'x bare':>7} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7} {'x bare':>7}  non-2xx"
    )
    for name, r in rows:
        print(
            f"{name:42} {r['rps']:9.0f} {r['rps'] / bare_row['rps']:7.2f} {r['p50']:7.2f} {r['p99']:7.2f} "
            f"{r['rss']:7.1f} {r['rss'] / bare_row['rss']:7.2f}  {r['non2xx']} {r['errors']}"
        )
    print(
        f"\ncold start to first answer (payemu serve, 5 runs): "
        f"median {statistics.median(cold):.3f} s, max {max(cold):.3f} s"
    )
    print(f"requests journaled by the emulator during the run: {journal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
