"""The `payemu` command: serve | check | openapi | replay | docs | new-provider | proxy | drift."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from emulator.config import Config
from emulator.core.errors import ConfigError


def _options(pairs: list[str]) -> dict[str, Any]:
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "." not in key:
            raise SystemExit(f"payemu: --option takes provider.name=value, got {pair!r}")
        options[key] = yaml.safe_load(value)
    return options


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env(
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        scenario=getattr(args, "scenario", None),
        seed=getattr(args, "seed", None),
        strict=True if getattr(args, "strict", False) else None,
        tenants_file=Path(args.tenants) if getattr(args, "tenants", None) else None,
        open_tenants=True if getattr(args, "open_tenants", False) else None,
        external_url=getattr(args, "external_url", None),
        store=getattr(args, "store", None),
        admin_token=getattr(args, "admin_token", None),
        insecure_admin=True if getattr(args, "insecure_admin", False) else None,
        options=_options(getattr(args, "option", None) or []) or None,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    # Start-up allocates ~30 000 objects that live as long as the server; collecting them as they come
    # cost ~50 of ~560 ms to a built app (ten alternating runs). tune_gc() collects once, freezes them
    # and turns the collector back on before the first request.
    gc.disable()
    from emulator.serving import serve

    serve(_config(args))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from emulator import create_app
    from emulator.core.replay import load_replay

    config = _config(args)
    app = create_app(config)
    runtime = app.extensions["payemu"]
    runtime.contracts.compile_all()
    checked = len(runtime.contracts.documents)
    for provider, operations in sorted(runtime.operations.items()):
        for operation in sorted(operations):
            if operation not in runtime.contracts.request_operations(provider):
                raise ConfigError(f"contracts/{provider}/{operation}.request.json: missing")
            if operation not in runtime.contracts.response_operations(provider):
                raise ConfigError(f"contracts/{provider}/{operation}.response.json: missing")
    replays = sorted(config.scenarios_dir.glob("*/replay-*.yaml"))
    for path in replays:
        load_replay(path, config.scenarios_dir / "replay.schema.json")
    print(
        f"ok: {checked} contract files, {len(runtime.scenarios.book)} scenarios, {len(replays)} replay files, "
        f"{sum(len(ops) for ops in runtime.operations.values())} operations in {len(runtime.providers)} providers"
    )
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from emulator import create_app
    from emulator.core.openapi import build_openapi

    document = build_openapi(create_app(_config(args)))
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from emulator import create_app
    from emulator.core.replay import Replay, in_process, load_replay, over_http

    config = _config(args)
    if args.from_recording:
        return _replay_recording(args, config)
    if not args.files:
        raise ConfigError("replay needs replay files or --from-recording DIR")
    failed = 0
    for name in args.files:
        path = Path(name)
        if not path.exists():
            path = config.scenarios_dir / name
        document = load_replay(path, config.scenarios_dir / "replay.schema.json")
        if args.url:
            send = over_http(args.url, admin_token=config.admin_token)
            reset = send("POST", "/__admin/reset", {}, b"")
            if reset.status != 200:  # a locked admin API without the right --admin-token, most likely
                print(f"payemu: {args.url} refused POST /__admin/reset ({reset.status}): {reset.body[:200]!r}")
                return 1
        else:
            send = in_process(create_app(config))
        print(f"replay {path}: {document['description']}")
        results = Replay(document, send).run(lambda result: print("  " + result.line(), flush=True))
        bad = [r for r in results if not r.passed]
        failed += len(bad)
        print(f"  {len(results) - len(bad)} passed, {len(bad)} failed")
    return 1 if failed else 0


def _replay_recording(args: argparse.Namespace, config: Config) -> int:
    """`payemu replay --from-recording DIR`: the recording as a replay, run; FAIL lines are where the
    emulator answers differently from the recorded upstream."""
    from emulator import create_app
    from emulator.core.replay import Replay, in_process, over_http
    from emulator.core.scenarios import FileSchema
    from emulator.recorded_replay import UNSET, to_replay
    from emulator.recording import read_recordings

    source = Path(args.from_recording)
    if not source.exists():
        raise ConfigError(f"{source}: no such recording")
    app = create_app(config)
    document = to_replay(read_recordings(source), app, f"replay of the recording {source}")
    error = FileSchema(config.scenarios_dir / "replay.schema.json").first_error(document)
    if error is not None:  # a bug here, never the user's: say where
        raise ConfigError(f"generated replay: {'.'.join(map(str, error.absolute_path))}: {error.message}")
    if args.write:  # written before --var: the secrets given on the command line never reach the file
        Path(args.write).write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
        print(f"wrote {args.write}")
    for pair in args.var or []:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--var takes NAME=VALUE, got {pair!r}")
        document.setdefault("variables", {})[name] = value
    unset = [name for name, value in (document.get("variables") or {}).items() if value == UNSET]
    if unset:
        print("secrets not given (--var NAME=VALUE): " + ", ".join(unset))
    send = over_http(args.url, admin_token=config.admin_token) if args.url else in_process(app)
    if args.url and send("POST", "/__admin/reset", {}, b"").status != 200:
        print(f"payemu: {args.url} refused POST /__admin/reset")
        return 1
    print(f"replay {source}: {len(document['steps'])} recorded exchange(s)")
    results = Replay(document, send).run(lambda result: print("  " + result.line(), flush=True))
    bad = [r for r in results if not r.passed]
    print(f"  {len(results) - len(bad)} answered as recorded, {len(bad)} differently")
    return 1 if bad else 0


def cmd_proxy(args: argparse.Namespace) -> int:
    from emulator import create_app
    from emulator.proxy import RecordingProxy, make_proxy_server, parse_upstreams
    from emulator.recording import Recorder

    config = _config(args)
    app = create_app(config)
    upstreams = parse_upstreams(args.upstream or [], app.extensions["payemu"].providers)
    recorder = Recorder(Path(args.record)) if args.record else None
    proxy = RecordingProxy(app, upstreams, recorder, timeout=args.upstream_timeout)
    try:
        server = make_proxy_server(proxy, config.host, config.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc
    routes = ", ".join(f"{name} -> {url}" for name, url in sorted(upstreams.items())) or "none (all emulated)"
    print(f"payemu proxy on http://{config.host}:{server.server_port}; upstreams: {routes}", flush=True)
    if recorder:
        print(f"recording to {args.record}/<provider>.jsonl", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.extensions["payemu"].callbacks.close()
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    from emulator import create_app
    from emulator.drift import DriftChecker
    from emulator.recording import read_recordings

    source = Path(args.recording)
    if not source.exists():
        raise ConfigError(f"{source}: no such recording")
    checker = DriftChecker(create_app(_config(args)))
    for exchange in read_recordings(source):
        checker.check(exchange)
    if args.format == "json":
        text = json.dumps(checker.to_json(), indent=2, ensure_ascii=False)
    else:
        text = checker.markdown() if args.format == "markdown" else checker.text()
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 1 if checker.drift_count() else 0


def cmd_docs(args: argparse.Namespace) -> int:
    from emulator.docs import DOCS_DIR, sync_all
    from emulator.providers import PROVIDERS

    problems = sync_all(PROVIDERS, Path(args.docs_dir) if args.docs_dir else DOCS_DIR, check=args.check)
    for problem in problems:
        print(("" if args.check else "updated: ") + problem)
    if not problems:
        print("ok: every provider page's options table matches its OPTIONS")
    return 1 if problems and args.check else 0


def cmd_new_provider(args: argparse.Namespace) -> int:
    from emulator.scaffold import new_provider

    root = Path(args.root)
    if not (root / "emulator" / "providers").is_dir():
        raise ConfigError(f"{root}: not a payemu checkout (no emulator/providers/)")
    try:
        written = new_provider(root, args.name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"registered {args.name} in emulator/providers/__init__.py; next: docs/architecture.md#adding-a-provider")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="payemu", description="Sandbox emulator of payment-provider APIs.")
    commands = root.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--tenants", help="YAML file of tenants keyed by provider (replaces the samples it names)")
        sub.add_argument("--option", action="append", help="provider option override: provider.name=value")
        sub.add_argument("--seed", type=int, help="seed for generated ids and fake data")

    serve = commands.add_parser("serve", help="serve the emulator")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8080)")
    serve.add_argument("--scenario", help="server-wide active scenario, <provider>/<stem>")
    serve.add_argument("--strict", action="store_true", help="validate every response against its contract")
    serve.add_argument("--open-tenants", action="store_true", help="admit unknown well-formed credentials")
    serve.add_argument("--external-url", help="base URL clients use to reach this server (hosted pages)")
    serve.add_argument(
        "--store", help="where state lives: memory (default), sqlite:///<path>, redis://<host>:<port>/<db>"
    )
    serve.add_argument("--admin-token", help="require Authorization: Bearer <token> on /__admin (PAYEMU_ADMIN_TOKEN)")
    serve.add_argument(
        "--insecure-admin", action="store_true", help="allow a non-loopback --host without an admin token"
    )
    common(serve)
    serve.set_defaults(run=cmd_serve)

    check = commands.add_parser("check", help="validate every contract, scenario and replay file")
    common(check)
    check.set_defaults(run=cmd_check)

    openapi = commands.add_parser("openapi", help="print an OpenAPI 3.1 document built from the contracts")
    openapi.add_argument("--output", "-o", help="write to this file instead of stdout")
    common(openapi)
    openapi.set_defaults(run=cmd_openapi)

    replay = commands.add_parser("replay", help="run replay files step by step")
    replay.add_argument("files", nargs="*", help="replay YAML files (paths, or relative to scenarios/)")
    replay.add_argument("--from-recording", help="replay a `payemu proxy --record` folder (or .jsonl file) instead")
    replay.add_argument("--var", action="append", help="with --from-recording: a secret variable, NAME=VALUE")
    replay.add_argument("--write", help="with --from-recording: also write the generated replay YAML here")
    replay.add_argument("--url", help="run against a live emulator instead of an in-process app")
    replay.add_argument("--admin-token", help="the live emulator's admin token (default: PAYEMU_ADMIN_TOKEN)")
    common(replay)
    replay.set_defaults(run=cmd_replay)

    docs = commands.add_parser("docs", help="regenerate the options tables of docs/providers/*.md from the code")
    docs.add_argument("--check", action="store_true", help="only report differences; non-zero when there are any")
    docs.add_argument("--docs-dir", help="the docs/ folder (default: the repository's)")
    docs.set_defaults(run=cmd_docs)

    proxy = commands.add_parser("proxy", help="forward providers to real upstreams, emulate the rest, record")
    proxy.add_argument("--upstream", action="append", help="provider=URL: forward that provider's paths there")
    proxy.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    proxy.add_argument("--port", type=int, default=None, help="port (default 8080)")
    proxy.add_argument("--record", help="folder to record exchanges in, one <provider>.jsonl each")
    proxy.add_argument("--upstream-timeout", type=float, default=30.0, help="seconds before an upstream is a 504")
    proxy.add_argument("--admin-token", help="require Authorization: Bearer <token> on /__admin")
    common(proxy)
    proxy.set_defaults(run=cmd_proxy)

    drift = commands.add_parser("drift", help="report where recorded exchanges differ from the contracts")
    drift.add_argument("recording", help="a `payemu proxy --record` folder, or one .jsonl file")
    drift.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="report format")
    drift.add_argument("--output", "-o", help="write the report to this file instead of stdout")
    drift.set_defaults(run=cmd_drift)

    scaffold = commands.add_parser("new-provider", help="write a new provider folder with the fixed file roles")
    scaffold.add_argument("name", help="the provider's name: lower-case letters, digits and _")
    scaffold.add_argument("--root", default=".", help="the repository checkout to write into (default: .)")
    scaffold.set_defaults(run=cmd_new_provider)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"payemu: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
