"""docker-compose.yml, the Dockerfile and .dockerignore: valid Compose, healthy start order, commands observe
accepts, and a Prometheus that scrapes exactly the demo mesh's sidecars."""

from __future__ import annotations

import http.server
import json
import re
import shlex
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import jsonschema
import pytest

from observe.cli.serve import SERVE_FLAGS
from observe.demo.identity import BOOKINFO
from observe.settings import load_settings
from tests.unit.deploy.helpers import (
    COMPOSE_FILE,
    COMPOSE_SCHEMA,
    DEPLOY,
    ROOT,
    Obj,
    load_yaml,
    parse_observe,
    require_binary,
    run,
)

PROMETHEUS_CONFIG = DEPLOY / "compose" / "prometheus.yml"


@pytest.fixture(scope="module")
def compose() -> Obj:
    data: Obj = load_yaml(COMPOSE_FILE)
    return data


@pytest.fixture(scope="module")
def services(compose: Obj) -> dict[str, Obj]:
    found: dict[str, Obj] = compose["services"]
    return found


def _flags(argv: list[str]) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in argv if arg.startswith("--") and "=" in arg)


def test_compose_file_validates_against_the_compose_specification(compose: Obj) -> None:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(compose)


def test_the_schema_rejects_an_invalid_compose_file(compose: Obj) -> None:
    """A control: the vendored schema does constrain services (an unknown condition is refused)."""
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["ui"]["depends_on"]["observe"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validators.validator_for(schema)(schema).validate(broken)


def test_the_stack_has_what_make_demo_has(services: dict[str, Obj]) -> None:
    assert set(services) == {"prometheus", "jaeger", "demo", "observe", "ui"}
    assert services["prometheus"]["image"].startswith("prom/prometheus:")
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:")
    assert services["jaeger"]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(services: dict[str, Obj]) -> None:
    for name, service in services.items():
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD" and len(test) > 1, f"{name}: healthcheck must run a command"
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert spec == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    order: list[str] = []  # a start order exists: no cycles

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"depends_on cycle: {' -> '.join((*path, name))}"
        for dependency in services[name].get("depends_on", {}):
            visit(dependency, (*path, name))
        if name not in order:
            order.append(name)

    for name in services:
        visit(name, ())
    assert order.index("observe") > max(order.index(s) for s in ("prometheus", "jaeger", "demo"))
    assert order.index("ui") > order.index("observe")


def test_observe_serve_command_parses_and_points_at_the_compose_backends(services: dict[str, Obj]) -> None:
    service = services["observe"]
    args = parse_observe(service["command"])
    assert args.command == "serve"
    environ = {k: str(v) for k, v in service["environment"].items()}
    settings = load_settings({n: getattr(args, n) for n in SERVE_FLAGS}, args.config, environ)
    assert urlsplit(settings.prometheus_url).hostname == "prometheus"
    assert urlsplit(settings.prometheus_url).port == 9090
    assert settings.jaeger_url == "http://jaeger:16686"
    assert settings.host == "0.0.0.0"
    published = {int(p.split(":")[1]) for p in service["ports"]}
    assert {settings.port, settings.otlp_port} == published
    assert settings.scrape_interval == load_yaml(PROMETHEUS_CONFIG)["global"]["scrape_interval"]
    assert f":{settings.port}/readyz" in service["healthcheck"]["test"][-1]
    assert settings.allow_writes is False  # as `make demo`: edits need an explicit opt-in


def test_observe_ui_command_parses_and_reads_the_api(services: dict[str, Obj]) -> None:
    service = services["ui"]
    args = parse_observe(service["command"])
    assert args.command == "ui"
    api = urlsplit(args.api_url)
    observe = parse_observe(services["observe"]["command"])
    assert (api.hostname, api.port) == ("observe", int(observe.port))
    assert args.host == "0.0.0.0"
    assert any(p.endswith(f":{args.port}") for p in service["ports"])
    assert f":{args.port}/" in service["healthcheck"]["test"][-1]


def test_prometheus_scrapes_every_demo_sidecar_and_nothing_else(services: dict[str, Obj]) -> None:
    flags = _flags(services["demo"]["command"])
    base = int(flags["port-base"])
    expected = {f"demo:{base + i}" for i in range(len(BOOKINFO))}
    [job] = [j for j in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"] if j["job_name"] == "demo-mesh"]
    assert job["metrics_path"] == "/stats/prometheus"
    assert {t for c in job["static_configs"] for t in c["targets"]} == expected
    assert f"127.0.0.1:{flags['control-port']}/" in services["demo"]["healthcheck"]["test"][-1]
    assert urlsplit(flags["otlp-endpoint"]).hostname == "jaeger"
    assert urlsplit(flags["otlp-endpoint"]).port == 4318
    assert flags["rules-dir"] in {v.split(":")[1] for v in services["observe"]["volumes"]}


def test_demo_command_parses_with_the_demo_parser(services: dict[str, Obj]) -> None:
    from observe.demo.__main__ import parse_args

    service = services["demo"]
    assert service["entrypoint"] == ["python", "-m", "observe.demo"]
    try:
        parse_args(service["command"])
    except SystemExit as exc:
        raise AssertionError(f"python -m observe.demo rejects {service['command']!r}") from exc


def test_prometheus_config_passes_promtool() -> None:
    done = run([require_binary("promtool"), "check", "config", str(PROMETHEUS_CONFIG)])
    assert done.returncode == 0, done.stdout + done.stderr


def test_bind_mounts_exist(services: dict[str, Obj]) -> None:
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), source


# ---- Dockerfile ----


def _dockerfile() -> dict[str, list[str]]:
    """Instructions of the final stage (after the last FROM), continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    final: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.strip().partition(" ")
        if word.upper() == "FROM":
            final = {}
        final.setdefault(word.upper(), []).append(rest.strip())
    return final


def test_dockerfile_runs_observe_as_a_non_root_user_and_exposes_its_ports() -> None:
    final = _dockerfile()
    [user] = final["USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert int(user.split(":")[0]) >= 10000
    assert set(" ".join(final["EXPOSE"]).split()) == {"8080", "8050", "4318"}
    assert json.loads(final["ENTRYPOINT"][0]) == ["observe"]
    assert json.loads(final["CMD"][0]) == ["serve"]


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_dockerfile_healthcheck_is_python_and_follows_the_server(http_server: tuple[str, list[str]]) -> None:
    """Run the image's HEALTHCHECK command itself: 0 on 200 from /healthz, non-zero on 503 or no answer."""
    [healthcheck] = _dockerfile()["HEALTHCHECK"]
    argv = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert argv[0] == "python" and "curl" not in healthcheck
    assert "OBSERVE_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz" in " ".join(_dockerfile()["ENV"])
    url, seen = http_server
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv/bin/python").exists() else "python3"

    def probe(target: str) -> int:
        env = shlex.quote(target)
        done = run(["sh", "-c", f"OBSERVE_HEALTHCHECK_URL={env} exec {shlex.join([python, *argv[1:]])}"])
        return done.returncode

    assert probe(f"{url}/healthz") == 0
    assert probe(f"{url}/readyz") != 0
    assert probe("http://127.0.0.1:9/healthz") != 0  # nothing listens
    assert seen == ["/healthz", "/readyz"]


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    lines = [
        ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "**"
    allowed = {ln[1:].rstrip("/") for ln in lines if ln.startswith("!")}
    copied = set()
    for copy in _build_copies():
        copied.update(copy.split()[:-1])
    assert copied <= allowed
    assert {".venv", "tests"}.isdisjoint(allowed)


def _build_copies() -> list[str]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    return [line.strip()[5:] for line in text.splitlines() if line.startswith("COPY ") and "--from=" not in line]
