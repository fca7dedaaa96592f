"""`observe edit traffic` against a rules directory: dry-run YAML, apply, refusals naming the field."""

from pathlib import Path

import pytest
import yaml

from observe.cli import main


def where(tmp_path: Path) -> list[str]:
    return ["--rules-dir", str(tmp_path / "rules"), "--audit-db", str(tmp_path / "a.db")]


def test_dry_run_yaml_prints_both_objects_and_writes_nothing(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = main(["edit", "traffic", "bookinfo/reviews", "--weights", "v1=80,v2=20", "--versions", "v1,v2,v3",
                 "--dry-run", "-o", "yaml", *where(tmp_path)])  # fmt: skip
    rule, vs = yaml.safe_load_all(capsys.readouterr().out)
    assert code == 0 and rule["kind"] == "DestinationRule" and vs["kind"] == "VirtualService"
    assert [d["weight"] for d in vs["spec"]["http"][0]["route"]] == [80, 20]
    assert not any((tmp_path / "rules" / plural).exists() for plural in ("virtualservices", "destinationrules"))


def test_apply_header_canary_then_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["edit", "traffic", "bookinfo/reviews", "--weights", "v1=100", "--versions", "v1,v2,v3",
                 *where(tmp_path)]) == 0  # fmt: skip
    assert main(["edit", "traffic", "bookinfo/reviews", "--match-header", "end-user=jason", "--to", "v2",
                 "--versions", "v2", *where(tmp_path)]) == 0  # fmt: skip
    assert main(["edit", "traffic", "bookinfo/reviews", "--mirror", "v3", "--mirror-percent", "10",
                 "--versions", "v3", *where(tmp_path)]) == 0  # fmt: skip
    assert "applied; audit entries" in capsys.readouterr().err
    vs = yaml.safe_load((tmp_path / "rules/virtualservices/bookinfo/reviews.yaml").read_text())
    assert vs["spec"]["http"][0]["match"] == [{"headers": {"end-user": {"exact": "jason"}}}]
    assert vs["spec"]["http"][1]["mirror"]["subset"] == "v3"


@pytest.mark.parametrize(("args", "field"), [
    (["--weights", "v1=80,v2=30", "--versions", "v1,v2"], "weights"),
    (["--weights", "v1=²", "--versions", "v1"], "weights"),  # a digit to isdigit(), not to int()
    (["--mirror", "v1", "--versions", "v1"], "version"),
    (["--match-header", "end-user=(a)\\1", "--match-op", "regex", "--to", "v1", "--versions", "v1"], "match.value"),
    (["--take-over", "v9", "--versions", "v1"], "version"),
])  # fmt: skip
def test_refused_values_exit_non_zero_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       args: list[str], field: str) -> None:  # fmt: skip
    main(["edit", "traffic", "bookinfo/reviews", "--weights", "v1=100", "--versions", "v1", *where(tmp_path)])
    capsys.readouterr()
    assert main(["edit", "traffic", "bookinfo/reviews", *args, *where(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"observe: {field}:")
