"""`python -m observe.demo`: run the demo mesh on loopback until SIGINT/SIGTERM (for debugging; the full
`observe demo` command with the backend lives in the CLI).

    python -m observe.demo --rps 20 --fault reviews-v2:error_ratio=0.2,latency_ms=100 --prometheus
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from observe.demo.faults import Fault, parse_fault_spec
from observe.demo.mesh import DemoMesh, MeshConfig
from observe.demo.prometheus import PrometheusProcess


def _fault(spec: str) -> tuple[str, Fault]:
    try:
        return parse_fault_spec(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m observe.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rps", type=float, default=10.0, help="load generator rate (default 10)")
    parser.add_argument("--namespace", default="bookinfo")
    parser.add_argument("--otlp-endpoint", default=None, help="e.g. http://127.0.0.1:8080/v1/traces")
    parser.add_argument("--sampling-ratio", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="WORKLOAD:key=value,...",
        help="e.g. reviews-v2:error_ratio=0.2,latency_ms=100 (repeatable; an app name means all versions)",
    )
    parser.add_argument("--prometheus", action="store_true", help="also run a Prometheus scraping the mesh")
    parser.add_argument("--host", default="127.0.0.1", help="listen address: loopback, or 0.0.0.0 in a container")
    parser.add_argument("--port-base", type=int, default=0, help="workloads listen on N, N+1, … (0: free ports)")
    parser.add_argument("--control-port", type=int, default=0, help="the control endpoint's port (0: free)")
    parser.add_argument("--service-time", type=float, default=0.0, help="scale of each app's simulated work time")
    parser.add_argument("--rules-dir", default=None, help="a directory of DestinationRules the sidecars obey")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> MeshConfig:
    return MeshConfig(
        namespace=args.namespace,
        rps=args.rps,
        faults=dict(args.fault),
        otlp_endpoint=args.otlp_endpoint,
        sampling_ratio=args.sampling_ratio,
        seed=args.seed,
        host=args.host,
        port_base=args.port_base,
        control_port=args.control_port,
        service_time_scale=args.service_time,
        rules_dir=args.rules_dir,
    )


async def run(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    mesh = DemoMesh(config_from_args(args))
    prometheus: PrometheusProcess | None = None
    await mesh.start()
    try:
        print(f"productpage:  {mesh.entry_url}")
        print(f"control:      {mesh.control_url}  (GET /faults, PUT /faults/<workload>, PUT /load, GET /stats)")
        print(f"metrics:      {', '.join(f'http://{t}{mesh.metrics_path}' for t in mesh.scrape_targets)}")
        if args.prometheus:
            prometheus = PrometheusProcess(mesh.scrape_targets, mesh.metrics_path)
            await prometheus.start()
            print(f"prometheus:   {prometheus.url}")
        sys.stdout.flush()
        await stop.wait()
    finally:
        if prometheus is not None:
            await prometheus.stop()
        await mesh.stop()
        stats = mesh.load_stats()
        print(
            f"stopped after {stats.elapsed_s:.0f} s: sent {stats.sent}, "
            f"responses {stats.by_code}, errors {stats.errors}"
        )


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        asyncio.run(run(args))
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc


if __name__ == "__main__":
    main()
