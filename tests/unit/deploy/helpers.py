"""Shared helpers of the deploy tests: the repository's paths, YAML loading, and observe's own CLI parser."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from observe.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE_FILE = ROOT / "docker-compose.yml"
RULES_FILE = DEPLOY / "prometheus" / "observe-rules.yaml"
RULES_TEST_FILE = DEPLOY / "prometheus" / "observe-rules.test.yaml"
PROMETHEUS_RULE_FILE = DEPLOY / "prometheus" / "observe-prometheusrule.yaml"
COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "schemas" / "compose-spec.json"
KUSTOMIZATIONS = ("base", "overlays/istio-addons", "overlays/istio-addons-editor", "overlays/prometheus-operator")

Obj = dict[str, Any]


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def require_binary(name: str) -> str:
    """The binary's path, or skip: these tests run the real tool and nothing can stand in for it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"`{name}` is not installed (needed to check deploy/ with the real tool)")
    return path


def run(argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def render(kustomization: str) -> list[Obj]:
    """`kubectl kustomize deploy/<kustomization>` as a list of objects; fails with kustomize's message."""
    kubectl = require_binary("kubectl")
    done = run([kubectl, "kustomize", str(DEPLOY / kustomization)])
    assert done.returncode == 0, f"kubectl kustomize deploy/{kustomization} failed:\n{done.stderr}"
    return [obj for obj in yaml.safe_load_all(done.stdout) if obj]


def only(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parse_observe(argv: list[str]) -> argparse.Namespace:
    """Parse `observe <argv>` with observe's own parser, exactly as the container's entrypoint would.

    `observe ui` lives in observe/cli/ui.py; until `build_parser()` registers it, it is registered here so the
    UI's flags are still checked against the real code.
    """
    parser = build_parser()
    if argv and argv[0] == "ui" and "ui" not in _subcommands(parser):
        from observe.cli import ui

        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                ui.register(action)
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on an unknown flag or a bad value
        raise AssertionError(f"observe rejects the arguments {argv!r}") from exc
