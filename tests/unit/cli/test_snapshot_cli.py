from observe.cli import build_parser
from observe.cli.snapshot import format_diff, run_create, run_diff, run_export, run_list


def test_commands_are_registered() -> None:
    parser = build_parser()
    create = parser.parse_args(["snapshot", "create", "--title", "T"])
    assert (create.run, create.window, create.at) == (run_create, "10m", None)
    assert parser.parse_args(["snapshot", "list"]).run is run_list
    export = parser.parse_args(["snapshot", "export", "ID", "--format", "html", "-o", "out.html"])
    assert (export.run, export.id, export.format, export.output) == (run_export, "ID", "html", "out.html")
    diff = parser.parse_args(["diff", "--a-at", "1795428000"])
    assert (diff.run, diff.a_at, diff.b_at) == (run_diff, "1795428000", None)


def test_diff_table_leads_with_the_biggest_impact() -> None:
    answer = {
        "edges": [
            {"source": "a", "target": "b", "status": "both", "impact": 0.0417,
             "delta": {"rps": 0.0, "success_rate": -0.5, "p99_ms": 12.5}},
            {"source": "a", "target": "c", "status": "added", "impact": 0.0,
             "delta": {"rps": 4.0, "success_rate": None, "p99_ms": None}},
        ],
        "nodes": {"added": ["c"], "removed": []},
        "missing": [{"side": "a", "source": "prometheus", "error": "rates: timeout"}],
    }  # fmt: skip
    lines = format_diff(answer, limit=1).splitlines()
    assert lines[1].split() == ["4.17%", "both", "a", "->", "b", "+0.00", "-50.00%", "+12.5"]
    assert "a -> c" not in "\n".join(lines)  # beyond the limit
    assert "nodes added: c; removed: -" in lines and lines[-1] == "missing (a): prometheus: rates: timeout"
