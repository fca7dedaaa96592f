"""`observe serve`: the API server, with graceful shutdown on SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import signal
import sys
from typing import Any

from aiohttp import web

from observe.api.app import RUNNER_OPTIONS, create_app, create_otlp_app
from observe.api.middleware import RequestIdFilter
from observe.settings import Settings, load_settings

# Flags mirror Settings fields; None means "not given", so the file and environment still apply.
SERVE_FLAGS = (
    "prometheus_url", "jaeger_url", "host", "port", "otlp_port", "window", "refresh", "percentile_refresh",
    "query_timeout", "trace_retention", "recording_rules", "rules_dir", "audit_db", "allow_writes", "write_token",
    "auth_header", "log_format", "data_dir", "kube", "kubeconfig",
)  # fmt: skip


def add_settings_flags(parser: argparse.ArgumentParser, names: tuple[str, ...] = SERVE_FLAGS) -> None:
    parser.add_argument("--config", help="YAML file of settings (keys as the flags, with underscores)")
    for name in names:
        default = getattr(Settings(), name)
        flag, env = "--" + name.replace("_", "-"), f"env OBSERVE_{name.upper()}"
        if isinstance(default, bool):
            parser.add_argument(flag, dest=name, default=None, action=argparse.BooleanOptionalAction,
                                help=f"default {'on' if default else 'off'}; {env}")  # fmt: skip
        elif name == "write_token":  # a token on a command line shows in `ps`: prefer the environment
            parser.add_argument(flag, dest=name, default=None, help=f"prefer {env}")
        else:
            parser.add_argument(flag, dest=name, default=None, type=type(default), help=f"default {default}; {env}")


def settings_from_args(args: argparse.Namespace, names: tuple[str, ...] = SERVE_FLAGS) -> Settings:
    return load_settings({n: getattr(args, n) for n in names}, config_file=args.config)


def register(commands: Any) -> None:
    parser = commands.add_parser("serve", help="run the API server")
    add_settings_flags(parser)
    parser.set_defaults(run=run)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": record.created, "level": record.levelname, "logger": record.name,
                 "request_id": getattr(record, "request_id", "-"), "message": record.getMessage()}  # fmt: skip
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())  # every line of a request carries its X-Request-Id
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


def tune_gc() -> None:
    """A refresh of a large mesh allocates a burst of short-lived objects (the JSON answers, samples, graph and
    wire answer: ~10^5 at 10,000 edges). With CPython's default gen-0 threshold (700) that burst triggers
    hundreds of collections, and full ones over the whole heap: about half of parsing and building there.

    A collection holds the GIL for as long as it scans its generations, so each threshold is also a pause of
    the event loop. Gen 0: 50,000 made 35-55 ms pauses at 2,000 edges (the top of the loop-lag p99), 20,000
    makes 8-15 ms ones at the same total collection time. Gen 1 holds what survived up to `middle` young
    collections, and a refresh's graph and answer survive a few seconds: at 50 young collections (10^6
    allocations) gen 1 grew to several hundred thousand objects and one collection of it stalled the loop
    for 0.55-0.77 s; at 10 it takes 0.1-0.15 s, and the total collection time was no higher (measured at 2,000
    edges: 0.39 s vs 0.79 s over 20 refreshes; OTLP ingest unchanged)."""
    gc.set_threshold(20_000, 10, 10)


async def start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start `app` and return its runner and the bound port (port 0 picks a free one)."""
    runner = web.AppRunner(app, **RUNNER_OPTIONS)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, bound


async def wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def _serve(settings: Settings) -> None:
    app = create_app(settings)
    runners = [await start_site(app, settings.host, settings.port)]
    log = logging.getLogger("observe")
    log.info("serving on http://%s:%d (Prometheus %s)", settings.host, runners[0][1], settings.prometheus_url)
    try:
        if settings.otlp_port:
            runners.append(await start_site(create_otlp_app(app), settings.host, settings.otlp_port))
            log.info("OTLP/HTTP receiver on http://%s:%d/v1/traces", settings.host, runners[1][1])
        await wait_for_signal()
    finally:
        for runner, _ in reversed(runners):
            await runner.cleanup()


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    configure_logging(settings.log_format)
    tune_gc()
    asyncio.run(_serve(settings))
    return 0
