from dataclasses import fields
from pathlib import Path

import pytest

from observe.errors import BadQuery
from observe.settings import Settings, load_settings


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    config = tmp_path / "observe.yaml"
    config.write_text("prometheus_url: http://from-file:9090\nwindow: 5m\nrefresh: 20s\nport: 9000\n")
    env = {"OBSERVE_WINDOW": "2m", "OBSERVE_REFRESH": "15s", "OBSERVE_UNRELATED": "x", "HOME": "/root"}
    settings = load_settings({"refresh": "5s", "port": None}, config_file=str(config), environ=env)
    assert settings.prometheus_url == "http://from-file:9090"  # file
    assert settings.window_s == 120  # env beats file
    assert settings.refresh_s == 5  # flag beats env
    assert settings.port == 9000  # a flag not given leaves the file's value
    assert load_settings(environ={}) == Settings()


@pytest.mark.parametrize(("content", "field"), [
    ("prometheus_ur1: http://x\n", "prometheus_ur1"),
    ("window: 5 minutes\n", "window"),
    ("port: eighty\n", "port"),
    ("- a\n- b\n", "config"),
])  # fmt: skip
def test_bad_config_names_the_key(tmp_path: Path, content: str, field: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    with pytest.raises(BadQuery) as err:
        load_settings(config_file=str(config), environ={})
    assert err.value.field == field


def test_bad_env_value_is_refused() -> None:
    with pytest.raises(BadQuery, match="refresh"):
        load_settings(environ={"OBSERVE_REFRESH": "soon"})
    with pytest.raises(BadQuery, match="degraded <= healthy"):
        load_settings(environ={"OBSERVE_HEALTHY_SUCCESS_RATE": "0.9", "OBSERVE_DEGRADED_SUCCESS_RATE": "0.95"})


def test_every_setting_is_in_the_readme_configuration_reference() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [f.name for f in fields(Settings) if f"OBSERVE_{f.name.upper()}" not in readme]
    assert missing == []
