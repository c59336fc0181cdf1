"""`make bench`: payemu next to WireMock and a bare Flask app, on the same requests, in one run (issue 20).

Servers, all on loopback, all running for the whole run:
  WireMock  the npm package `wiremock` 3.13.2's standalone jar on the system Java (tests/bench/package.json,
            installed by `make bench` with `npm ci`), default journal, one stub per measured path answering
            the status, content type and body payemu answered;
  bare      a stateful Flask app answering the same bodies, served exactly as `payemu serve` serves
            (tests/bench/bare_app.py: granian embedded, inline RSGI, the GC tuned);
  payemu    `python -m emulator serve` on the memory store, plus the SQLite and Redis stores for Token/Generate.

Cases: Izipay Token/Generate, Installments Search with a fresh token per call and with one reused token,
Zai POST /token_auths (OAuth bearer), Ecommpay tokenize (signed) and Payture Init (a new OrderId per call).
Each row is `wrk -t2 -c16 -d10s` after a warm-up whose responses are all checked for the provider's
success; before any row, WireMock first serves every case's request in turn for --jvm-warmup seconds in
all, so that its JIT has compiled the whole serving path (a 10 s warm-up on the first row alone left it
at half speed on that row: docs/serving.md#a-run). Server CPU is utime+stime
of the server's process tree from /proc over the timed run; RSS is read after it. Cold start is the
median time from launch to the first 200 of Token/Generate, payemu's modules compiled to bytecode
first, as an install compiles them. Then a 50 ms scenario delay at 16
connections against the ideal 16 / 0.05 s. `--scale` instead measures payemu with 10^5 Zai users and
10^6 token auths in state (loaded through the API by wrk) against the empty state.

Not collected by pytest. Usage: python tests/bench.py [--duration 10] [--warmup 3] [--jvm-warmup 40]
[--json FILE] [--scale]; `--help` for the rest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from emulator.providers.ecommpay import signing
from emulator.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "tests" / "bench"
WIREMOCK_JAR = BENCH_DIR / "node_modules" / "wiremock" / "build" / "wiremock-standalone-3.13.2.jar"
REQUEST_LUA = BENCH_DIR / "request.lua"
PYTHON = sys.executable
THREADS = 2  # wrk -t
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

# The sample tenants (emulator/providers/*/tenants.yaml and docs/providers/*.md).
IZIPAY_MERCHANT = "4007701"
IZIPAY_TOKEN_BODY = {
    "requestSource": "ECOMMERCE",
    "merchantCode": IZIPAY_MERCHANT,
    "orderNumber": "R202211101518",
    "publicKey": "VErEthUtraQUxas57wUMuquprADrAHAb",
    "amount": "15.00",
}
IZIPAY_HEADERS = {"Content-Type": "application/json", "transactionId": "TXBENCH01"}
IZIPAY_SEARCH_BODY = {"bin": "545545", "merchantCode": IZIPAY_MERCHANT, "language": "ESP"}
ZAI_CLIENT = {
    "grant_type": "client_credentials",
    "client_id": "10ajtntet1ccghuo8mv9ojglma",
    "client_secret": "payemu-zai-marketplace-a-client-secret-0001",
    "scope": "im-au-04/cdbf9590-1db6-0139-ac4d-0a58a9feac03",
}
ZAI_USER = {
    "id": "bench-buyer",
    "user_type": "payin",
    "email": "bench@example.com",
    "first_name": "Bench",
    "last_name": "Buyer",
    "country": "AUS",
}
ECOMMPAY_PROJECT, ECOMMPAY_SECRET = 11, "secret"
PAYTURE_LOGIN = "VWUserLgn=bench@example.ru;VWUserPsw=pw1;"
DELAY_SCENARIO = "izipay/bench-delay-50ms"  # tests/bench/scenarios/izipay/bench-delay-50ms.yaml
DELAY_SECONDS = 0.05


@dataclass
class Case:
    """One measured request, sent the same way to every server."""

    name: str
    path: str
    body: str
    headers: dict[str, str]
    check: str  # text every payemu success body contains
    unique: bool = False  # "{{unique}}" in the body becomes a new value on every request
    fresh_tokens: bool = False  # a new Izipay token on every request (files made by fresh_token_files)
    stores: bool = False  # also measured on payemu's SQLite and Redis stores


@dataclass
class Server:
    """A running server under measurement."""

    name: str
    url: str
    process: subprocess.Popen
    kind: str  # wiremock | bare | payemu


@dataclass
class Run:
    """What one wrk run measured."""

    rps: float
    p50: float
    p99: float
    requests: int
    non2xx: int
    socket_errors: str
    ok: int
    failures: int
    reused: int
    first_failure: str
    extra: dict[str, Any] = field(default_factory=dict)


# -- processes -------------------------------------------------------------------------------------


def launch(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a server in the background, its output discarded."""
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM one process we started and wait for it (SIGKILL after 10 s)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_for_200(process: subprocess.Popen, url: str, body: str, headers: dict[str, str], timeout: float = 60) -> None:
    """Poll one POST until it answers 200 (the server is up and answering the measured request)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.post(url, data=body, headers=headers, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if process.poll() is not None:
            raise SystemExit(f"bench: server exited before answering: {process.args}")
        time.sleep(0.005)
    raise SystemExit(f"bench: no 200 from {url} within {timeout} s")


def cold_start(command: list[str], url: str, case: Case, env: dict[str, str] | None = None) -> float:
    """Seconds from launching a server to its first 200 on the case's request; the server is stopped after."""
    started = time.perf_counter()
    process = launch(command, env)
    try:
        wait_for_200(process, url + case.path, case.body, case.headers)
        return time.perf_counter() - started
    finally:
        stop(process)


def compile_bytecode() -> None:
    """Compile payemu's modules as installing it from a wheel does (pip compiles what it installs). An
    editable install leaves them to Python, which writes none under PYTHONDONTWRITEBYTECODE (set on this
    machine and in CI): every cold start of payemu, and of the bare app through `emulator.serving`, then
    timed Python compiling ~80 modules (measured: payemu 0.87 against 0.50 s, bare 0.43 against 0.36 s)."""
    import compileall

    compileall.compile_dir(ROOT / "emulator", quiet=1)


def process_tree(pid: int) -> list[int]:
    """The pid and all its descendants (threads are counted by /proc/<pid>/stat itself)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """utime + stime (and the reaped children's cutime + cstime) of a process tree, in seconds."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # fields 14-17 of proc(5): utime stime cutime cstime
    return ticks / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process tree, MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total_kb += int(found.group(1)) if found else 0
    return total_kb / 1024


# -- wrk -------------------------------------------------------------------------------------------


def lua_string(text: str) -> str:
    """A Lua string literal (JSON's escapes are valid Lua for the ASCII we send)."""
    return json.dumps(text)


def wrk_script(workdir: Path, case: Case, run_tag: str, **settings: Any) -> Path:
    """Write the case's globals above tests/bench/request.lua; `settings` are its optional globals
    (CHECK, TOKENS, EXTRACT, EXTRACT_TO) in lower case."""
    lines = [
        'METHOD = "POST"',
        f"PATH = {lua_string(case.path)}",
        f"BODY = {lua_string(case.body)}",
        "HEADERS = {" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in case.headers.items()) + "}",
        f"THREADS = {THREADS}",
        f"RUN = {lua_string(run_tag)}",
    ]
    if case.unique:
        lines.append("UNIQUE = true")
    for name, value in settings.items():
        if value is not None:
            lines.append(f"{name.upper()} = {lua_string(str(value))}")
    path = workdir / f"{run_tag}.lua"
    path.write_text("\n".join(lines) + "\n" + REQUEST_LUA.read_text())
    return path


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_command(url: str, script: Path, seconds: int, connections: int) -> list[str]:
    return ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]


def wrk(url: str, script: Path, seconds: int, connections: int) -> Run:
    """Run wrk once for `seconds`."""
    command = wrk_command(url, script, seconds, connections)
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def wrk_until(url: str, script: Path, connections: int, done: Any) -> Run:
    """Run wrk until `done()` is true (checked twice a second), then stop it with SIGINT, as Ctrl-C does."""
    process = subprocess.Popen(wrk_command(url, script, 7200, connections), stdout=subprocess.PIPE, text=True)
    while process.poll() is None and not done():
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    return parse_wrk(process.communicate()[0])


def parse_wrk(output: str) -> Run:
    """What wrk printed, and the counts request.lua's done() added."""
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))  # wrk pads "1.02s" with spaces
    counts = dict(re.findall(r"BENCH (\w+)=(\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    first_failure = re.search(r"^BENCH first_failure=(.*)$", output, re.M)
    return Run(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50=to_ms(latency["50"]) if "50" in latency else 0.0,
        p99=to_ms(latency["99"]) if "99" in latency else 0.0,
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        non2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors.group(1).strip() if socket_errors else "",
        ok=int(counts.get("ok", 0)),
        failures=int(counts.get("failures", 0)),
        reused=int(counts.get("reused", 0)),
        first_failure=first_failure.group(1)[:200] if first_failure else "",
    )


def measure(server: Server, case: Case, args: argparse.Namespace, workdir: Path, tokens: dict[str, Path]) -> dict:
    """Warm up (every response checked), then the timed run with CPU read around it and RSS after it."""
    tag = re.sub(r"\W+", "-", f"{case.name}-{server.name}").strip("-").lower()
    warmup = args.warmup
    warm_tokens, timed_tokens = (tokens["warmup"], tokens["timed"]) if case.fresh_tokens else (None, None)
    check = wrk_script(workdir, case, f"{tag}-warmup", check=case.check, tokens=warm_tokens)
    warm = wrk(server.url, check, warmup, args.connections)
    timed_script = wrk_script(workdir, case, f"{tag}-timed", tokens=timed_tokens)
    cpu_before = cpu_seconds(server.process.pid)
    timed = wrk(server.url, timed_script, args.duration, args.connections)
    pending, drain_seconds = drain_callbacks(server)
    cpu = cpu_seconds(server.process.pid) - cpu_before
    return {
        "case": case.name,
        "server": server.name,
        "rps": round(timed.rps, 1),
        "p50_ms": round(timed.p50, 3),
        "p99_ms": round(timed.p99, 3),
        "cpu_us_per_request": round(cpu / max(timed.requests, 1) * 1e6, 1),
        "rss_mb": round(rss_mb(server.process.pid), 1),
        "requests": timed.requests,
        "non2xx": timed.non2xx,
        "socket_errors": timed.socket_errors,
        "warmup_seconds": warmup,
        "warmup_requests": warm.requests,
        "warmup_failures": warm.failures,
        "warmup_first_failure": warm.first_failure,
        "reused_tokens": timed.reused,
        "callbacks_pending_after_run": pending,
        "callbacks_drain_seconds": drain_seconds,
    }


def pending_callbacks(server: Server) -> int:
    """How many of payemu's callbacks are still waiting to go out (0 for the other servers)."""
    if server.kind != "payemu":
        return 0
    # health counts them: listing thousands of pending messages on every poll cost the server CPU of its own
    counts = requests.get(server.url + "/__admin/health", timeout=60).json()["callbacks"]
    return counts.get("pending", 0) + counts.get("held", 0)


def drain_callbacks(server: Server, timeout: float = 120) -> tuple[int, float]:
    """Wait until payemu has sent every callback the timed run caused (Ecommpay's tokenize callbacks go to
    the bare server), so that work counts in the row's CPU and does not spill into the next row.
    Returns how many were pending when the run ended and the seconds they took to go."""
    started = time.monotonic()
    pending = first = pending_callbacks(server)
    while pending and time.monotonic() - started < timeout:
        time.sleep(0.5)
        pending = pending_callbacks(server)
    return first, round(time.monotonic() - started, 1) if first else 0.0


# -- the cases ---------------------------------------------------------------------------------------


def izipay_token(url: str) -> str:
    """One Izipay token from payemu."""
    answer = requests.post(url + "/security/v1/Token/Generate", json=IZIPAY_TOKEN_BODY, headers=IZIPAY_HEADERS)
    answer.raise_for_status()
    return answer.json()["response"]["token"]


def zai_bearer(url: str) -> str:
    """An OAuth access token from payemu's Zai auth endpoint (docs/providers/zai.md#access-tokens)."""
    answer = requests.post(url + "/tokens", data=ZAI_CLIENT)
    answer.raise_for_status()
    return answer.json()["access_token"]


def prepare_payemu(url: str) -> dict[str, str]:
    """The state every case needs on one payemu server: a reusable Izipay token, a Zai bearer and user, a
    registered Payture customer. Returns the credentials the cases send."""
    bearer = zai_bearer(url)
    user = requests.post(url + "/users", json=ZAI_USER, headers={"Authorization": f"Bearer {bearer}"})
    assert user.status_code == 201, user.text
    register = requests.post(url + "/vwapi/Register", data={"VWID": "DemoMerchantAdd", "DATA": PAYTURE_LOGIN})
    assert 'Success="True"' in register.text, register.text
    return {"izipay_token": izipay_token(url), "zai_bearer": bearer}


def ecommpay_tokenize_body() -> str:
    """A signed tokenize request for sample project 11 (docs/providers/ecommpay.md#signature); the same card
    every time, so payemu answers with the same token and its state does not grow."""
    body: dict[str, Any] = {
        "customer": {"id": "bench-customer", "project_id": ECOMMPAY_PROJECT, "ip_address": "127.0.0.1"},
        "card": {"pan": "4314220000000056", "year": 2031, "month": 12, "card_holder": "PAUL SMITH"},
    }
    body["customer"]["signature"] = signing.sign(body, ECOMMPAY_SECRET)
    return json.dumps(body)


def cases(credentials: dict[str, str]) -> list[Case]:
    """The measured requests, in the order they run (Token/Generate first: WireMock's long warm-up is on it)."""
    search_body = json.dumps(IZIPAY_SEARCH_BODY)
    payture_data = "SessionType=Pay;" + PAYTURE_LOGIN + "OrderId=bench-{{unique}};Amount=500;"
    return [
        Case(
            "Izipay Token/Generate",
            "/security/v1/Token/Generate",
            json.dumps(IZIPAY_TOKEN_BODY),
            IZIPAY_HEADERS,
            '"code":"00"',
            stores=True,
        ),
        Case(
            "Izipay Search, fresh token",
            "/Installments/v1/Installments/Search",
            search_body,
            IZIPAY_HEADERS,
            '"code":"00"',
            fresh_tokens=True,
        ),
        Case(
            "Izipay Search, reused token",
            "/Installments/v1/Installments/Search",
            search_body,
            {**IZIPAY_HEADERS, "Authorization": f"Bearer {credentials['izipay_token']}"},
            '"code":"00"',
        ),
        Case(
            "Zai POST /token_auths",
            "/token_auths",
            json.dumps({"user_id": ZAI_USER["id"], "token_type": "card"}),
            {"Content-Type": "application/json", "Authorization": f"Bearer {credentials['zai_bearer']}"},
            '"token_auth":',
        ),
        Case(
            "Ecommpay tokenize (signed)",
            "/v2/customer/card/tokenize",
            ecommpay_tokenize_body(),
            {"Content-Type": "application/json"},
            '"status":"success"',
        ),
        Case(
            "Payture Init (new OrderId)",
            "/vwapi/Init",
            "VWID=DemoMerchantPay&DATA=" + requests.utils.quote(payture_data, safe="{}"),
            {"Content-Type": "application/x-www-form-urlencoded"},
            'Success="True"',
            unique=True,
        ),
    ]


def payemu_answers(url: str, all_cases: list[Case], credentials: dict[str, str]) -> dict[str, dict[str, Any]]:
    """What payemu answers each case's request (status, content type, body): what WireMock and bare answer."""
    answers = {}
    for case in all_cases:
        headers = dict(case.headers)
        if case.fresh_tokens:
            headers["Authorization"] = f"Bearer {credentials['izipay_token']}"
        body = case.body.replace("{{unique}}", "sample")
        answer = requests.post(url + case.path, data=body, headers=headers)
        if answer.status_code != 200 or case.check not in answer.text:
            raise SystemExit(f"bench: payemu did not succeed on {case.name}: {answer.status_code} {answer.text[:300]}")
        answers[case.path] = {"status": 200, "content_type": answer.headers["Content-Type"], "body": answer.text}
    return answers


def fresh_token_files(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Path]:
    """Izipay tokens made by payemu before the timed runs, one a line: a warm-up set and a timed set, each
    from 1.5x as long a Token/Generate run (Search runs at about Token/Generate's rate; a thread that runs
    out starts its tokens again, and the row says how many it reused)."""
    case = cases({"izipay_token": "", "zai_bearer": ""})[0]
    files = {}
    for name, seconds in (("warmup", args.warmup), ("timed", args.duration)):
        prefix = workdir / f"tokens-{name}"
        script = wrk_script(workdir, case, f"tokens-{name}", extract='"token":"([^"]+)"', extract_to=prefix)
        run = wrk(url, script, math.ceil(seconds * 1.5), args.connections)
        if run.failures:
            raise SystemExit(f"bench: token generation failed: {run.first_failure}")
        joined = workdir / f"tokens-{name}.txt"
        with joined.open("w") as out:
            for thread in range(THREADS):
                out.write(Path(f"{prefix}-{thread}.txt").read_text())
        files[name] = joined
    return files


# -- WireMock --------------------------------------------------------------------------------------


def wiremock_root(workdir: Path, answers: dict[str, dict[str, Any]]) -> Path:
    """A WireMock root folder with one stub per path (loaded at start-up), plus the delayed Token/Generate
    for the scenario-delay row (chosen by the same X-Payemu-Scenario header payemu reads)."""
    root = workdir / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    mappings = []
    for path, answer in answers.items():
        response = {"status": answer["status"], "headers": {"Content-Type": answer["content_type"]}}
        mappings.append(
            {"request": {"method": "POST", "urlPath": path}, "response": {**response, "body": answer["body"]}}
        )
        if path == "/security/v1/Token/Generate":
            delayed = {**response, "body": answer["body"], "fixedDelayMilliseconds": int(DELAY_SECONDS * 1000)}
            mappings.append(
                {
                    "priority": 1,
                    "request": {
                        "method": "POST",
                        "urlPath": path,
                        "headers": {"X-Payemu-Scenario": {"equalTo": DELAY_SCENARIO}},
                    },
                    "response": delayed,
                }
            )
    (root / "mappings" / "bench.json").write_text(json.dumps({"mappings": mappings}, indent=1))
    return root


def wiremock_command(port: int, root: Path) -> list[str]:
    """WireMock standalone with its defaults (request journal on, default threads)."""
    return [
        "java",
        "-jar",
        str(WIREMOCK_JAR),
        "--port",
        str(port),
        "--bind-address",
        "127.0.0.1",
        "--root-dir",
        str(root),
        "--disable-banner",
    ]


# -- the comparison ----------------------------------------------------------------------------------


def payemu_command(port: int, *extra: str) -> list[str]:
    return [PYTHON, "-m", "emulator", "serve", "--port", str(port), *extra]


def start_redis() -> tuple[subprocess.Popen, int]:
    """A throw-away redis-server on a free loopback port, nothing persisted."""
    import redis

    port = free_port()
    process = launch(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(port=port).ping()
            return process, port
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise SystemExit("bench: redis-server did not start") from None
            time.sleep(0.05)


def scenarios_with_delay(workdir: Path) -> Path:
    """The shipped scenarios plus tests/bench/scenarios (the 50 ms delay), for PAYEMU_SCENARIOS_DIR."""
    folder = workdir / "scenarios"
    shutil.copytree(ROOT / "scenarios", folder)
    shutil.copytree(BENCH_DIR / "scenarios", folder, dirs_exist_ok=True)
    return folder


def with_ratios(rows: list[dict]) -> list[dict]:
    """Add each row's ratios to the WireMock row and the bare row of its case."""
    for row in rows:
        for reference in ("WireMock", "bare"):
            base = next((r for r in rows if r["case"] == row["case"] and r["server"] == reference), None)
            if base is None:
                continue
            key = "x_wiremock" if reference == "WireMock" else "x_bare"
            row[key] = {
                name: round(row[name] / base[name], 2) if base[name] else None
                for name in ("rps", "p50_ms", "p99_ms", "cpu_us_per_request", "rss_mb")
            }
    return rows


def compare(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """The main comparison: every case on every server, cold starts, and the scenario delay."""
    servers: list[Server] = []
    started: list[subprocess.Popen] = []
    bare_port, payemu_port = free_port(), free_port()
    callback_url = f"http://127.0.0.1:{bare_port}/bench/callbacks"  # Ecommpay's callbacks, answered 200 by bare
    payemu_env = {"PAYEMU_SCENARIOS_DIR": str(scenarios_with_delay(workdir))}
    try:
        payemu = launch(payemu_command(payemu_port, "--option", f"ecommpay.callback_url={callback_url}"), payemu_env)
        started.append(payemu)
        payemu_url = f"http://127.0.0.1:{payemu_port}"
        token_case = cases({"izipay_token": "", "zai_bearer": ""})[0]
        wait_for_200(payemu, payemu_url + token_case.path, token_case.body, token_case.headers)
        credentials = prepare_payemu(payemu_url)
        all_cases = [
            c for c in cases(credentials) if not args.case or any(t.lower() in c.name.lower() for t in args.case)
        ]
        answers = payemu_answers(payemu_url, cases(credentials), credentials)
        answers_file = workdir / "answers.json"
        answers_file.write_text(json.dumps(answers))
        root = wiremock_root(workdir, answers)

        def bare_at(port: int) -> list[str]:
            return [PYTHON, str(BENCH_DIR / "bare_app.py"), str(port), str(answers_file)]

        compile_bytecode()
        print(f"cold starts ({args.cold_runs} of each, in turn) ...", flush=True)
        commands = {
            "WireMock": lambda port: wiremock_command(port, root),
            "bare": bare_at,
            "payemu": payemu_command,
        }
        # Round by round, one launch of each server in turn: a load that drifts during the launches (the
        # machine is shared) then weighs on every server alike, not on whichever ran its launches then.
        starts: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.cold_runs):
            for name, command_of in commands.items():
                port = free_port()
                starts[name].append(cold_start(command_of(port), f"http://127.0.0.1:{port}", token_case))
        cold = {
            name: {"median_s": round(statistics.median(runs), 3), "runs_s": [round(r, 3) for r in runs]}
            for name, runs in starts.items()
        }
        for name in cold:
            cold[name]["x_bare"] = round(cold[name]["median_s"] / cold["bare"]["median_s"], 2)
            cold[name]["x_wiremock"] = round(cold[name]["median_s"] / cold["WireMock"]["median_s"], 2)

        wiremock_port = free_port()
        wiremock = launch(wiremock_command(wiremock_port, root))
        bare = launch(bare_at(bare_port))
        started += [wiremock, bare]
        servers += [
            Server("WireMock", f"http://127.0.0.1:{wiremock_port}", wiremock, "wiremock"),
            Server("bare", f"http://127.0.0.1:{bare_port}", bare, "bare"),
            Server("payemu", payemu_url, payemu, "payemu"),
        ]
        store_servers = []
        redis_process, redis_port = start_redis()
        started.append(redis_process)
        for label, store in (
            ("payemu SQLite", f"sqlite:///{workdir}/bench.db"),
            ("payemu Redis", f"redis://127.0.0.1:{redis_port}/0"),
        ):
            port = free_port()
            process = launch(payemu_command(port, "--store", store))
            started.append(process)
            store_servers.append(Server(label, f"http://127.0.0.1:{port}", process, "payemu"))
        for server in servers + store_servers:
            wait_for_200(server.process, server.url + token_case.path, token_case.body, token_case.headers)

        warm_jvm(servers[0], cases(credentials), args, workdir)
        rows: list[dict] = []
        tokens: dict[str, Path] = {}
        for case in all_cases:
            if case.fresh_tokens and not tokens:
                print("  making fresh Izipay tokens ...", flush=True)
                tokens = fresh_token_files(payemu_url, args, workdir)
            for server in servers + (store_servers if case.stores else []):
                print(f"  {case.name} on {server.name} ...", flush=True)
                rows.append(measure(server, case, args, workdir, tokens))
        delay = scenario_delay(servers[0], servers[2], token_case, args, workdir)
        journal_total = requests.get(payemu_url + "/__admin/health").json()["journal_total"]
    finally:
        for process in started:
            stop(process)
    return {"rows": with_ratios(rows), "cold_start": cold, "delay": delay, "payemu_journal_total": journal_total}


def warm_jvm(wiremock: Server, every_case: list[Case], args: argparse.Namespace, workdir: Path) -> None:
    """WireMock serves every case's request in turn, --jvm-warmup seconds in all (at least 2 s each), with
    every response checked, before anything is timed: its JIT compiles the serving path of all of them."""
    seconds = max(2, math.ceil(args.jvm_warmup / len(every_case)))
    print(f"  warming WireMock's JIT: {seconds} s on each of {len(every_case)} cases ...", flush=True)
    for case in every_case:
        tag = re.sub(r"\W+", "-", f"jvm-{case.name}").strip("-").lower()
        warm = wrk(wiremock.url, wrk_script(workdir, case, tag, check=case.check), seconds, args.connections)
        if warm.failures:
            raise SystemExit(f"bench: WireMock answered {case.name} wrongly while warming up: {warm.first_failure}")


def scenario_delay(wiremock: Server, payemu: Server, case: Case, args: argparse.Namespace, workdir: Path) -> list:
    """Token/Generate with a 50 ms scenario delay at --connections: throughput against connections / 0.05 s."""
    delayed = Case(
        case.name + " +50 ms", case.path, case.body, {**case.headers, "X-Payemu-Scenario": DELAY_SCENARIO}, case.check
    )
    ideal = args.connections / DELAY_SECONDS
    rows = []
    for server in (wiremock, payemu):
        print(f"  50 ms scenario delay on {server.name} ...", flush=True)
        row = measure(server, delayed, args, workdir, {})
        row["ideal_rps"] = ideal
        row["x_ideal"] = round(row["rps"] / ideal, 3)
        rows.append(row)
    return rows


# -- state at scale (issue 20 item 2) -----------------------------------------------------------------


def journal_total(url: str) -> int:
    """How many provider requests payemu has journaled since it started (a generous timeout: with a million
    objects in state a full garbage collection has been seen to hold the server for over 10 s)."""
    return requests.get(url + "/__admin/health", timeout=300).json()["journal_total"]


def load(url: str, workdir: Path, case: Case, count: int) -> tuple[Run, float]:
    """Send the case's request with wrk (16 connections) until payemu has journaled `count` more requests;
    return the run (its `ok` counts the successes) and the seconds it took."""
    target = journal_total(url) + count
    print(f"  {case.name}: {count} requests ...", flush=True)
    started = time.perf_counter()
    script = wrk_script(workdir, case, re.sub(r"\W+", "-", case.name), check=case.check)
    run = wrk_until(url, script, 16, lambda: journal_total(url) >= target)
    if run.failures:
        raise SystemExit(f"bench: {case.name} failed: {run.first_failure}")
    return run, time.perf_counter() - started


def scale(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """payemu with --scale-users Zai users and --scale-tokens token auths in one marketplace's state,
    against the same server before they were loaded.

    The state is loaded the way clients build it, through POST /users and POST /token_auths driven by wrk
    (payemu has no bulk import), so it holds exactly what the real pipeline stores. RSS growth per user
    and per token auth is read from /proc around each load."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = launch(payemu_command(port))
    try:
        token_case = cases({"izipay_token": "", "zai_bearer": ""})[0]
        wait_for_200(process, url + token_case.path, token_case.body, token_case.headers)
        credentials = prepare_payemu(url)
        server = Server("payemu", url, process, "payemu")
        measured = [c for c in cases(credentials) if c.path in ("/token_auths", "/security/v1/Token/Generate")]
        bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {credentials['zai_bearer']}"}

        empty = [measure(server, case, args, workdir, {}) for case in measured]
        rss_empty = rss_mb(process.pid)
        users_case = Case(
            "load Zai users",
            "/users",
            json.dumps({**ZAI_USER, "id": "{{unique}}", "email": "{{unique}}@example.com"}),
            bearer,
            '"users":',
            unique=True,
        )
        users_run, users_seconds = load(url, workdir, users_case, args.scale_users)
        rss_users = rss_mb(process.pid)
        tokens_case = Case("load Zai token auths", measured[1].path, measured[1].body, bearer, '"token_auth":')
        tokens_run, tokens_seconds = load(url, workdir, tokens_case, args.scale_tokens)
        rss_tokens = rss_mb(process.pid)
        full = [measure(server, case, args, workdir, {}) for case in measured]
    finally:
        stop(process)
    for before, after in zip(empty, full, strict=True):
        after["x_empty_rps"] = round(after["rps"] / before["rps"], 3)
        after["x_empty_p99"] = round(after["p99_ms"] / before["p99_ms"], 3)
    return {
        "users_loaded": users_run.ok,
        "users_load_rps": round(users_run.ok / users_seconds, 1),
        "token_auths_loaded": tokens_run.ok,
        "token_auths_load_rps": round(tokens_run.ok / tokens_seconds, 1),
        "rss_mb": {"empty": rss_empty, "with_users": rss_users, "with_users_and_tokens": rss_tokens},
        "rss_bytes_per_user": round((rss_users - rss_empty) * 2**20 / max(users_run.ok, 1)),
        "rss_bytes_per_token_auth": round((rss_tokens - rss_users) * 2**20 / max(tokens_run.ok, 1)),
        "empty": empty,
        "full": full,
    }


# -- output ----------------------------------------------------------------------------------------


def ratio(row: dict, key: str, name: str) -> str:
    value = (row.get(key) or {}).get(name)
    return f"{value:.2f}" if value is not None else "-"


def print_rows(rows: list[dict]) -> None:
    """The absolute figures, then each row's ratios to its case's WireMock and bare rows."""
    print(
        f"{'case':30} {'server':14} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU us/req':>10} {'RSS MB':>7}"
        f" {'non-2xx':>7}  notes"
    )
    for row in rows:
        notes = []
        if row["warmup_failures"]:
            notes.append(f"{row['warmup_failures']} warm-up failures: {row['warmup_first_failure'][:60]}")
        if row["reused_tokens"]:
            notes.append(f"{row['reused_tokens']} tokens reused")
        if row["callbacks_pending_after_run"]:
            notes.append(
                f"{row['callbacks_pending_after_run']} callbacks pending after the run, sent in "
                f"{row['callbacks_drain_seconds']} s (in the CPU)"
            )
        if row["socket_errors"]:
            notes.append(f"socket errors: {row['socket_errors']}")
        print(
            f"{row['case']:30} {row['server']:14} {row['rps']:8.0f} {row['p50_ms']:7.2f} {row['p99_ms']:7.2f}"
            f" {row['cpu_us_per_request']:10.0f} {row['rss_mb']:7.1f} {row['non2xx']:7d}  {'; '.join(notes)}"
        )
    print(f"\n{'':45} {'x WireMock':^31}   {'x bare':^31}")
    names = ("rps", "p99_ms", "cpu_us_per_request", "rss_mb")
    header = f"{'req/s':>7} {'p99':>7} {'CPU':>7} {'RSS':>7}"
    print(f"{'case':30} {'server':14} {header}   {header}")
    for row in rows:
        print(
            f"{row['case']:30} {row['server']:14} "
            + " ".join(f"{ratio(row, 'x_wiremock', n):>7}" for n in names)
            + "   "
            + " ".join(f"{ratio(row, 'x_bare', n):>7}" for n in names)
        )


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Print everything measured, as tables."""
    print(
        f"\npayemu bench: wrk -t{THREADS} -c{args.connections} -d{args.duration}s after a {args.warmup} s warm-up "
        f"(WireMock warmed on every case first: {args.jvm_warmup} s); CPU = the server's process tree over "
        f"the timed run; load average {results['settings']['load_average_1min']['start']:.1f} at the start, "
        f"{results['settings']['load_average_1min']['end']:.1f} at the end ({results['settings']['cpus']} cores)\n"
    )
    if "rows" in results:
        print_rows(results["rows"])
        print(f"\ncold start to the first 200 of Token/Generate (median of {args.cold_runs}):")
        for name, cold in results["cold_start"].items():
            print(
                f"  {name:10} {cold['median_s']:6.3f} s   x bare {cold['x_bare']:5.2f}"
                f"   x WireMock {cold['x_wiremock']:5.2f}   runs {cold['runs_s']}"
            )
        ideal = args.connections / DELAY_SECONDS
        print(f"\n50 ms scenario delay, {args.connections} connections (ideal {ideal:.0f} req/s):")
        for row in results["delay"]:
            print(
                f"  {row['server']:10} {row['rps']:7.0f} req/s = {row['x_ideal']:.0%} of ideal"
                f"   p50 {row['p50_ms']:.1f} ms   p99 {row['p99_ms']:.1f} ms   non-2xx {row['non2xx']}"
            )
        print(f"\nrequests journaled by payemu (memory store) during the run: {results['payemu_journal_total']}")
        failed = [r for r in results["rows"] + results["delay"] if r["warmup_failures"] or r["non2xx"]]
        print(
            "every warm-up response was the provider's success and every timed one 2xx"
            if not failed
            else "NOT ALL SUCCESSES: " + ", ".join(f"{r['case']} on {r['server']}" for r in failed)
        )
    if "scale" in results:
        s = results["scale"]
        print(
            f"state at scale: {s['users_loaded']} Zai users ({s['users_load_rps']:.0f}/s) and "
            f"{s['token_auths_loaded']} token auths ({s['token_auths_load_rps']:.0f}/s) loaded through the API"
        )
        print(
            f"  RSS {s['rss_mb']['empty']:.0f} MB empty -> {s['rss_mb']['with_users']:.0f} MB with the users -> "
            f"{s['rss_mb']['with_users_and_tokens']:.0f} MB with the tokens: {s['rss_bytes_per_user']} B per user, "
            f"{s['rss_bytes_per_token_auth']} B per token auth"
        )
        for before, after in zip(s["empty"], s["full"], strict=True):
            print(
                f"  {after['case']:26} empty {before['rps']:7.0f} req/s p99 {before['p99_ms']:6.2f} ms   "
                f"loaded {after['rps']:7.0f} req/s p99 {after['p99_ms']:6.2f} ms   x empty {after['x_empty_rps']:.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of each timed wrk run (10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of checked warm-up before each (3)")
    parser.add_argument(
        "--jvm-warmup", type=int, default=40, help="seconds WireMock serves every case before any row, for its JIT (40)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk -c (16)")
    parser.add_argument("--cold-runs", type=int, default=7, help="cold starts per server; the median is shown (7)")
    parser.add_argument("--case", action="append", help="only the cases whose name contains this (repeatable)")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--scale", action="store_true", help="instead: payemu with a large Zai state (item 2)")
    parser.add_argument("--scale-users", type=int, default=100_000, help="users loaded for --scale (10^5)")
    parser.add_argument("--scale-tokens", type=int, default=1_000_000, help="token auths loaded for --scale (10^6)")
    args = parser.parse_args()
    for tool, hint in (("wrk", "apt-get install wrk"), ("java", "apt-get install openjdk-17-jre-headless")):
        if shutil.which(tool) is None:
            print(f"make bench needs {tool}: {hint}", file=sys.stderr)
            return 1
    if not args.scale and not WIREMOCK_JAR.is_file():
        print(f"make bench needs {WIREMOCK_JAR}: (cd tests/bench && npm ci)", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="payemu-bench-"))
    load_before = os.getloadavg()[0]
    try:
        results = {"scale": scale(args, workdir)} if args.scale else compare(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["settings"] = {
        "threads": THREADS,
        "connections": args.connections,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "jvm_warmup_s": args.jvm_warmup,
        "cpus": os.cpu_count(),
        "load_average_1min": {"start": load_before, "end": os.getloadavg()[0]},
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
