"""PrometheusProcess configuration and failure modes (the real binary runs in tests/integration), and the
`python -m observe.demo` argument handling."""

from __future__ import annotations

import pytest
import yaml

from observe.demo.__main__ import config_from_args, parse_args
from observe.demo.faults import Fault
from observe.demo.prometheus import PrometheusNotFound, PrometheusProcess, prometheus_config


def test_config_has_one_job_over_the_targets() -> None:
    config = prometheus_config(["127.0.0.1:1", "127.0.0.1:2"], "/stats/prometheus", 2.0)
    assert yaml.safe_load(yaml.safe_dump(config)) == {
        "global": {"scrape_interval": "2000ms", "scrape_timeout": "2000ms", "evaluation_interval": "2000ms"},
        "scrape_configs": [
            {
                "job_name": "bookinfo",
                "metrics_path": "/stats/prometheus",
                "static_configs": [{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}],
            }
        ],
    }


async def test_missing_binary_names_the_package_and_leaves_nothing_behind() -> None:
    prometheus = PrometheusProcess(["127.0.0.1:1"], "/metrics", binary="prometheus-does-not-exist")
    with pytest.raises(PrometheusNotFound, match="apt-get install prometheus"):
        await prometheus.start()
    with pytest.raises(RuntimeError):
        _ = prometheus.url
    await prometheus.stop()  # idempotent, nothing to stop


@pytest.mark.parametrize("interval", [0.0, 16.0, float("nan")])
def test_scrape_interval_is_bounded(interval: float) -> None:
    with pytest.raises(ValueError):
        PrometheusProcess(["127.0.0.1:1"], "/metrics", scrape_interval_s=interval)


def test_targets_are_required() -> None:
    with pytest.raises(ValueError):
        PrometheusProcess([], "/metrics")


def test_cli_arguments_build_the_mesh_config() -> None:
    args = parse_args(
        ["--rps", "25", "--namespace", "shop", "--otlp-endpoint", "http://127.0.0.1:8080/v1/traces",
         "--fault", "reviews-v2:error_ratio=0.2,latency_ms=100", "--fault", "ratings-v1:down=true", "--seed", "3"]
    )  # fmt: skip
    config = config_from_args(args)
    assert (config.rps, config.namespace, config.seed) == (25.0, "shop", 3)
    assert config.otlp_endpoint == "http://127.0.0.1:8080/v1/traces"
    assert config.faults == {"reviews-v2": Fault(error_ratio=0.2, latency_ms=100.0), "ratings-v1": Fault(down=True)}
    assert config.host == "127.0.0.1"


def test_cli_rejects_a_bad_fault(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--fault", "reviews-v2:error_rate=0.2"])
    assert "bad fault setting" in capsys.readouterr().err
