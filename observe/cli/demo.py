"""`observe demo`: the demo mesh, a real Prometheus scraping it, and the API — all on loopback."""

from __future__ import annotations

import argparse
import asyncio
import logging
from dataclasses import replace
from typing import Any

from observe.api.app import create_app
from observe.cli.serve import configure_logging, start_site, wait_for_signal
from observe.settings import Settings, load_settings

log = logging.getLogger("observe.demo")


def register(commands: Any) -> None:
    parser = commands.add_parser("demo", help="run the demo mesh + Prometheus + API on loopback")
    parser.add_argument("--rps", type=float, default=10.0, help="load generator rate into productpage")
    parser.add_argument("--namespace", default="bookinfo")
    parser.add_argument("--port", type=int, default=8080, help="API port (0 picks a free one)")
    parser.add_argument("--scrape-interval", type=float, default=2.0, help="Prometheus scrape interval, s")
    parser.add_argument("--config", default=None, help="YAML settings for the API")
    parser.set_defaults(run=run)


async def run_demo(args: argparse.Namespace, settings: Settings) -> None:
    # Imported here: the demo pulls in the OpenTelemetry SDK and exporter, which `observe serve` never needs.
    from observe.demo.mesh import DemoMesh, MeshConfig
    from observe.demo.prometheus import PrometheusProcess, free_port

    # The mesh needs the API's OTLP address before the API can start (the API needs Prometheus, which needs the
    # mesh's targets), so the API port is chosen first.
    api_port = settings.port or free_port()
    otlp = f"http://{settings.host}:{api_port}/v1/traces"
    mesh = DemoMesh(MeshConfig(namespace=args.namespace, rps=args.rps, otlp_endpoint=otlp))
    await mesh.start()
    prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path, scrape_interval_s=args.scrape_interval)
    runner = None
    try:
        await prometheus.start()
        settings = replace(settings, prometheus_url=prometheus.url, scrape_interval=f"{args.scrape_interval:g}s")
        runner, port = await start_site(create_app(settings), settings.host, api_port)
        api = f"http://{settings.host}:{port}"
        print(f"observe demo is running (Ctrl-C stops it)\n"
              f"  API:         {api}/api/v1/topology\n"
              f"  table:       observe topology --api-url {api}\n"
              f"  OTLP/HTTP:   {otlp}\n"
              f"  Prometheus:  {prometheus.url}\n"
              f"  mesh:        {mesh.entry_url} (control: {mesh.control_url})", flush=True)  # fmt: skip
        await wait_for_signal()
    finally:
        log.info("stopping")
        if runner is not None:
            await runner.cleanup()
        await prometheus.stop()
        await mesh.stop()


def run(args: argparse.Namespace) -> int:
    settings = load_settings({"port": args.port}, config_file=args.config)
    configure_logging(settings.log_format)
    asyncio.run(run_demo(args, settings))
    return 0
