"""A real Prometheus server (the distribution's `prometheus` binary) for the demo and the integration tests:
loopback only, a free port, a throw-away data directory, one scrape job over the demo mesh's sidecars.

Never the package defaults (0.0.0.0:9090, the shared /var/lib data dir); `start()` returns once
`/-/ready` answers 200 and every target has been scraped successfully, or fails with Prometheus's log.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import aiohttp
import yaml

JOB_NAME = "bookinfo"
HOST = "127.0.0.1"
MAX_SCRAPE_INTERVAL_S = 15.0  # Prometheus's default; the benchmarks' scale sweep scrapes at it
STOP_GRACE_S = 10.0
POLL_S = 0.2
PORT_ATTEMPTS = 3


class PrometheusNotFound(RuntimeError):
    """The prometheus binary is not installed."""


class PrometheusStartError(RuntimeError):
    """Prometheus exited or did not become ready in time; the message ends with its log."""


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def prometheus_config(
    targets: Sequence[str], metrics_path: str, scrape_interval_s: float, rule_files: Sequence[str] = ()
) -> dict[str, Any]:
    interval = _duration(scrape_interval_s)
    config: dict[str, Any] = {
        "global": {"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {"job_name": JOB_NAME, "metrics_path": metrics_path, "static_configs": [{"targets": list(targets)}]}
        ],
    }
    if rule_files:
        config["rule_files"] = [str(Path(f).resolve()) for f in rule_files]
    return config


def free_port() -> int:
    """A port free on loopback now (another process could take it before we bind: fine for local runs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class PrometheusProcess:
    def __init__(
        self,
        targets: list[str],
        metrics_path: str,
        scrape_interval_s: float = 2.0,
        binary: str = "prometheus",
        data_dir: str | None = None,
        extra_args: Sequence[str] = (),
        port: int = 0,
        rule_files: Sequence[str] = (),
    ) -> None:
        """`port` 0 picks a free one at start; a fixed port lets callers know the URL before Prometheus runs."""
        if not targets:
            raise ValueError("at least one scrape target is needed")
        if not (math.isfinite(scrape_interval_s) and 0.1 <= scrape_interval_s <= MAX_SCRAPE_INTERVAL_S):
            raise ValueError(f"scrape_interval_s must be within [0.1, {MAX_SCRAPE_INTERVAL_S:g}] s")
        self.targets = list(targets)
        self.metrics_path = metrics_path
        self.scrape_interval_s = scrape_interval_s
        self.binary = binary
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.port = port
        self.rule_files = list(rule_files)
        self._port = 0
        self._workdir: Path | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("Prometheus is not started")
        return f"http://{HOST}:{self._port}"

    @property
    def log_path(self) -> Path | None:
        return self._workdir / "prometheus.log" if self._workdir else None

    async def start(self, timeout_s: float = 30) -> None:
        executable = shutil.which(self.binary)
        if executable is None:
            raise PrometheusNotFound(
                f"'{self.binary}' not found on PATH; install it with `apt-get install prometheus` "
                "(or pass binary= the path of a Prometheus 2.x executable)"
            )
        self._workdir = Path(tempfile.mkdtemp(prefix="observe-prometheus-"))
        config_path = self._workdir / "prometheus.yml"
        config = prometheus_config(self.targets, self.metrics_path, self.scrape_interval_s, self.rule_files)
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        deadline = time.monotonic() + timeout_s
        try:
            for attempt in range(PORT_ATTEMPTS):
                await self._spawn(executable, config_path)
                if await self._wait_ready(deadline):
                    break
                if attempt == PORT_ATTEMPTS - 1 or "address already in use" not in self._log_tail():
                    raise PrometheusStartError(f"Prometheus exited with {self._returncode()}:\n{self._log_tail()}")
            await self._wait_targets_up(deadline)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """SIGTERM, wait up to STOP_GRACE_S, then SIGKILL; removes the temp dir (not a caller's data_dir)."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=STOP_GRACE_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._port = 0

    async def _spawn(self, executable: str, config_path: Path) -> None:
        assert self._workdir is not None
        if self._process is not None and self._process.returncode is None:
            raise RuntimeError("Prometheus is already running")
        self._port = self.port or free_port()
        data = self.data_dir or str(self._workdir / "data")
        if self._log is not None:
            self._log.close()
        self._log = (self._workdir / "prometheus.log").open("wb")
        self._process = await asyncio.create_subprocess_exec(
            executable,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address={HOST}:{self._port}",
            "--web.enable-lifecycle",
            *self.extra_args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # our stop() decides when it ends, not the terminal's Ctrl-C
        )

    async def _wait_ready(self, deadline: float) -> bool:
        """True once /-/ready answers 200; False if the process exited; raises on the deadline."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if self._returncode() is not None:
                    return False
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.url}/-/ready") as resp:
                        if resp.status == 200:
                            return True
                await asyncio.sleep(POLL_S)
        raise PrometheusStartError(f"Prometheus was not ready in time:\n{self._log_tail()}")

    async def _wait_targets_up(self, deadline: float) -> None:
        health: dict[str, str] = {}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                    async with session.get(f"{self.url}/api/v1/targets", params={"state": "active"}) as resp:
                        body = await resp.json()
                    active = body["data"]["activeTargets"]
                    health = {t["labels"]["instance"]: t["health"] for t in active}
                    if set(health) == set(self.targets) and all(h == "up" for h in health.values()):
                        return
                await asyncio.sleep(POLL_S)
        raise PrometheusStartError(f"targets not all up in time: {health}\n{self._log_tail()}")

    def _returncode(self) -> int | None:
        return self._process.returncode if self._process is not None else None

    def _log_tail(self, lines: int = 20) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
