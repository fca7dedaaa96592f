"""`observe demo`: the demo mesh, a real Prometheus scraping it, the API and the web UI — all on loopback.

The UI runs as its own process (`observe ui`), as it does in a deployment: it reads the API over HTTP only.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import sys
import tempfile
from dataclasses import replace
from typing import Any

from observe.api.app import create_app
from observe.cli.serve import configure_logging, start_site, tune_gc, wait_for_signal
from observe.demo.synthetic import SyntheticExporter
from observe.demo.synthetic import add_arguments as add_synthetic_arguments
from observe.demo.synthetic import config_from as synthetic_config
from observe.settings import Settings, load_settings

log = logging.getLogger("observe.demo")


def register(commands: Any) -> None:
    parser = commands.add_parser("demo", help="run the demo mesh + Prometheus + API on loopback")
    parser.add_argument("--rps", type=float, default=10.0, help="load generator rate into productpage")
    parser.add_argument("--namespace", default="bookinfo")
    parser.add_argument("--port", type=int, default=8080, help="API port (0 picks a free one)")
    parser.add_argument("--ui-port", type=int, default=8050, help="web UI port (0 picks a free one; -1: no UI)")
    parser.add_argument("--scrape-interval", type=float, default=2.0, help="Prometheus scrape interval, s")
    parser.add_argument("--service-time", type=float, default=1.0,
                        help="scale of each app's simulated work time (0: answer at once)")  # fmt: skip
    parser.add_argument("--config", default=None, help="YAML settings for the API")
    parser.add_argument("--rules-dir", default=None,
                        help="Istio objects the mesh obeys and edits write (default: a temporary directory)")
    parser.add_argument("--allow-writes", action="store_true",
                        help="enable edits; token: OBSERVE_WRITE_TOKEN or a random one, printed")  # fmt: skip
    synthetic = parser.add_argument_group("synthetic mesh (--synthetic: Istio series of a large mesh, no traffic)")
    synthetic.add_argument("--synthetic", action="store_true", help="serve a synthetic mesh's series instead")
    add_synthetic_arguments(synthetic)
    parser.set_defaults(run=run)


async def run_demo(args: argparse.Namespace, settings: Settings) -> None:
    # Imported here: the demo pulls in the OpenTelemetry SDK and exporter, which `observe serve` never needs.
    from observe.demo.mesh import DemoMesh, MeshConfig
    from observe.demo.prometheus import PrometheusProcess, free_port

    # The API starts first so the mesh's spans have somewhere to go from its first request; it only needs
    # Prometheus's address, so Prometheus's port is chosen up front and Prometheus starts last.
    prometheus_port = free_port()
    workdir = tempfile.TemporaryDirectory(prefix="observe-demo-")
    rules_dir = args.rules_dir or os.path.join(workdir.name, "rules")
    os.makedirs(rules_dir, exist_ok=True)
    token = settings.write_token or (secrets.token_urlsafe(24) if args.allow_writes else "")
    settings = replace(settings, prometheus_url=f"http://127.0.0.1:{prometheus_port}",
                       scrape_interval=f"{args.scrape_interval:g}s", rules_dir=rules_dir,
                       audit_db=settings.audit_db if args.rules_dir else os.path.join(workdir.name, "audit.sqlite3"),
                       allow_writes=settings.allow_writes or args.allow_writes, write_token=token)  # fmt: skip
    runner, port = await start_site(create_app(settings), settings.host, settings.port)
    api = f"http://{settings.host}:{port}"
    otlp = f"{api}/v1/traces"
    mesh: DemoMesh | SyntheticExporter
    if args.synthetic:
        mesh = SyntheticExporter(synthetic_config(args))
    else:
        mesh = DemoMesh(MeshConfig(namespace=args.namespace, rps=args.rps, otlp_endpoint=otlp,
                                   service_time_scale=args.service_time, rules_dir=rules_dir))  # fmt: skip
    prometheus: PrometheusProcess | None = None
    ui: asyncio.subprocess.Process | None = None
    try:
        await mesh.start()
        prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path,
                                       scrape_interval_s=args.scrape_interval, port=prometheus_port)  # fmt: skip
        await prometheus.start()
        ui_line = "off (--ui-port -1)"
        if args.ui_port >= 0:
            ui_port = args.ui_port or free_port()
            # the token goes through the environment, never argv (which every local user can read)
            ui_env = {**os.environ, "OBSERVE_WRITE_TOKEN": token if settings.allow_writes else ""}
            ui = await asyncio.create_subprocess_exec(sys.executable, "-m", "observe", "ui", "--api-url", api,
                                                      "--host", settings.host, "--port", str(ui_port),
                                                      env=ui_env)  # fmt: skip
            await _wait_listening(settings.host, ui_port, ui)
            ui_line = f"http://{settings.host}:{ui_port}/"
        print(f"observe demo is running (Ctrl-C stops it)\n"
              f"  UI:          {ui_line}\n"
              f"  API:         {api}/api/v1/topology\n"
              f"  table:       observe topology --api-url {api}\n"
              f"  OTLP/HTTP:   {otlp}\n"
              f"  Prometheus:  {prometheus.url}\n"
              f"  mesh:        {mesh_line(mesh)}\n"
              f"  rules:       {rules_dir} (the mesh obeys the DestinationRules here)\n"
              f"  writes:      {'on, bearer token ' + token if settings.allow_writes else 'off (--allow-writes)'}",
              flush=True)  # fmt: skip
        await wait_for_signal()
    finally:
        log.info("stopping")
        if ui is not None and ui.returncode is None:
            ui.terminate()
            await ui.wait()
        if prometheus is not None:
            await prometheus.stop()
        await mesh.stop()
        await runner.cleanup()
        workdir.cleanup()


def mesh_line(mesh: Any) -> str:
    if isinstance(mesh, SyntheticExporter):
        return f"synthetic, {mesh.mesh.series_count:,} series at {mesh.url}"
    return f"{mesh.entry_url} (control: {mesh.control_url})"


async def _wait_listening(host: str, port: int, process: asyncio.subprocess.Process, timeout_s: float = 60.0) -> None:
    """Wait (bounded) until the UI accepts connections, so the printed URL works when it is printed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline and process.returncode is None:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        writer.close()
        return
    log.warning("the web UI is not listening on %s:%s (exit status %s)", host, port, process.returncode)


def run(args: argparse.Namespace) -> int:
    settings = load_settings({"port": args.port}, config_file=args.config)
    configure_logging(settings.log_format)
    tune_gc()
    asyncio.run(run_demo(args, settings))
    return 0
