"""Frozen Settings from defaults < YAML config file < OBSERVE_* environment < command-line flags.

This module is the only reader of os.environ. Every option has one name used three ways: the field
`prometheus_url`, the YAML key `prometheus_url`, the variable `OBSERVE_PROMETHEUS_URL`, the flag
`--prometheus-url`. Durations are written as in PromQL (`10s`, `1m`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from observe.errors import BadQuery
from observe.model.durations import parse_duration

ENV_PREFIX = "OBSERVE_"


@dataclass(frozen=True)
class Settings:
    """Every setting; `write_token` is kept out of repr so it never reaches a log."""

    prometheus_url: str = "http://127.0.0.1:9090"
    prometheus_gzip: bool = False  # ask for gzip answers: for a Prometheus across a slow link (see sources.prometheus)
    host: str = "127.0.0.1"
    port: int = 8080
    window: str = "1m"  # default topology window
    refresh: str = "10s"  # rate refresh cadence of a live view
    percentile_refresh: str = "30s"  # histogram_quantile cadence (they cost far more than rates)
    query_timeout: str = "5s"  # per PromQL query
    view_idle_timeout: str = "5m"  # stop refreshing a view nobody asked for in this long
    recording_rules: str = "auto"  # read observe's recording rules (deploy/prometheus): auto, on or off
    scrape_interval: str = "15s"  # of the Prometheus behind: a series point's rate window is at least 4 of them
    otlp_port: int = 0  # a second listener for OTLP/HTTP only (4318 is the OTLP default); 0: off
    jaeger_url: str = ""  # Jaeger query API base, e.g. http://tracing.istio-system/jaeger; empty: not polled
    jaeger_poll: str = "15s"  # how often Jaeger is searched for new traces
    jaeger_limit: int = 500  # traces read per poll at most
    trace_retention: str = "1h"  # per-edge trace statistics and whole traces are kept this long
    rules_dir: str = ""  # GitOps directory of Istio objects that edits write; empty: edits unavailable
    kube: bool = False  # edits go to the Kubernetes API instead (takes precedence over rules_dir)
    kubeconfig: str = ""  # for kube; empty: the in-cluster service account, else $KUBECONFIG or ~/.kube/config
    audit_db: str = "observe-audit.sqlite3"  # SQLite file of the edit audit log
    data_dir: str = ""  # directory of observe's own state (snapshots.sqlite3); empty: snapshots are off
    allow_writes: bool = False  # edits need this, and then a token or a trusted proxy's user header
    write_token: str = field(default="", repr=False)  # bearer token for writes; empty: tokens are not accepted
    auth_header: str = ""  # user header set by an authenticating proxy, e.g. X-Forwarded-User
    trusted_proxies: str = "127.0.0.1/32,::1/128"  # addresses whose auth_header is believed
    allowed_origins: str = ""  # extra browser origins allowed to write (the UI's, when on another host)
    healthy_success_rate: float = 0.99
    degraded_success_rate: float = 0.95
    log_format: str = "text"  # text | json

    @property
    def window_s(self) -> float:
        return parse_duration(self.window, "window")

    @property
    def refresh_s(self) -> float:
        return parse_duration(self.refresh, "refresh")

    @property
    def percentile_refresh_s(self) -> float:
        return parse_duration(self.percentile_refresh, "percentile_refresh")

    @property
    def query_timeout_s(self) -> float:
        return parse_duration(self.query_timeout, "query_timeout")

    @property
    def view_idle_timeout_s(self) -> float:
        return parse_duration(self.view_idle_timeout, "view_idle_timeout")

    @property
    def trace_retention_s(self) -> float:
        return parse_duration(self.trace_retention, "trace_retention")

    @property
    def jaeger_poll_s(self) -> float:
        return parse_duration(self.jaeger_poll, "jaeger_poll")

    @property
    def min_rate_window_s(self) -> float:
        return 4 * parse_duration(self.scrape_interval, "scrape_interval")

    def validate(self) -> Settings:
        for name in ("window", "refresh", "percentile_refresh", "query_timeout", "view_idle_timeout",
                     "scrape_interval", "trace_retention", "jaeger_poll"):  # fmt: skip
            parse_duration(getattr(self, name), name)
        if self.recording_rules not in ("auto", "on", "off"):
            raise BadQuery(f"invalid recording_rules '{self.recording_rules}': expected auto, on or off",
                           field="recording_rules")  # fmt: skip
        if self.log_format not in ("text", "json"):
            raise BadQuery(f"invalid log_format '{self.log_format}': expected text or json", field="log_format")
        if not 0 < self.degraded_success_rate <= self.healthy_success_rate <= 1:
            raise BadQuery("success-rate thresholds must satisfy 0 < degraded <= healthy <= 1", field="health")
        return self


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def _coerce(name: str, raw: Any) -> Any:
    target = {f.name: f.type for f in fields(Settings)}[name]
    if target == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in _TRUE + _FALSE:
            raise BadQuery(f"invalid {name} '{raw}': expected true or false", field=name)
        return text in _TRUE
    try:
        if target == "int":
            return int(raw)
        if target == "float":
            return float(raw)
    except (TypeError, ValueError):
        raise BadQuery(f"invalid {name} '{raw}': expected a number", field=name) from None
    return str(raw)


def _known(values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise BadQuery(f"unknown setting(s) in {origin}: {', '.join(unknown)}", field=unknown[0])
    return {k: _coerce(k, v) for k, v in values.items() if v is not None}


def from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    names = {f.name for f in fields(Settings)}
    picked = {k[len(ENV_PREFIX) :].lower(): v for k, v in environ.items() if k.startswith(ENV_PREFIX)}
    return _known({k: v for k, v in picked.items() if k in names}, "environment")


def from_file(path: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise BadQuery(f"cannot read config file {path}: {exc}", field="config") from None
    if not isinstance(data, dict):
        raise BadQuery(f"config file {path} must hold a mapping of settings", field="config")
    return _known({k.replace("-", "_"): v for k, v in data.items()}, path)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then the YAML file, then OBSERVE_* variables, then flags that were given (not None)."""
    settings = Settings()
    if config_file:
        settings = replace(settings, **from_file(config_file))
    settings = replace(settings, **from_env(os.environ if environ is None else environ))
    settings = replace(settings, **_known(dict(flags or {}), "flags"))
    return settings.validate()


KUBE_VARIABLES = ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG", "HOME")


def kube_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the Kubernetes applier reads (in-cluster API address, kubeconfig location)."""
    source = os.environ if environ is None else environ
    return {name: source[name] for name in KUBE_VARIABLES if name in source}
