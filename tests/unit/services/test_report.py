import re
from typing import Any

from observe.services.report import graph_figure, layered_positions, render_report, series_figure

EDGE = ("bookinfo/productpage/v1", "bookinfo/reviews/v2")


def document(title: str = "reviews-v2 outage", notes: str = "") -> dict[str, Any]:
    edges = [{"source": EDGE[0], "target": EDGE[1], "rps": 3.0, "success_rate": 0.5, "p99_ms": 24.9,
              "health": "failing"},
             {"source": "unknown", "target": EDGE[0], "rps": 10.0, "success_rate": 1.0, "p99_ms": None,
              "health": "healthy"}]  # fmt: skip
    nodes = [{"id": n, "health": "healthy"} for n in ("unknown", *EDGE)]
    series = {"source": EDGE[0], "target": EDGE[1],
              "series": {"rps": [[1.8e9 - 60, 3.0], [1.8e9, 3.0]], "success_rate": [[1.8e9, 0.5]], "p99_ms": []},
              }  # fmt: skip
    return {"id": "AbCdEfGhIjKlMnOp", "title": title, "notes": notes, "at": 1.8e9, "created": 1.8e9 + 5,
            "window_s": 300.0, "graph": "versioned-app", "namespaces": ["bookinfo"],
            "topology": {"nodes": nodes, "edges": edges}, "series": [series], "compare": [], "audit": None,
            "missing": [{"source": "jaeger", "error": "timeout"}]}  # fmt: skip


def test_report_is_one_offline_file_with_the_edge() -> None:
    page = render_report(document())
    assert page.count("<script") == 4  # plotly.js, the boot script, the JSON of 2 figures (graph, 1 chart)
    assert not re.search(r"<script[^>]*\bsrc=", page) and not re.search(r"<(link|img|iframe)\b", page)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp and "default-src 'none'" in csp.group(1) and "unsafe-eval" not in csp.group(1)
    assert f"<td>{EDGE[0]}</td><td>{EDGE[1]}</td>" in page and "jaeger: timeout" in page


def test_failing_edges_come_first() -> None:
    page = render_report(document())
    assert page.index(f"<td>{EDGE[1]}</td>") < page.index("<td>unknown</td>")


def test_markup_in_title_and_notes_is_text() -> None:
    page = render_report(document(title='<img src=x onerror="alert(1)">', notes="</pre><script>alert(2)</script>"))
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_layers_follow_calls_and_survive_cycles() -> None:
    pos = layered_positions(["a", "b", "c"], [("a", "b"), ("b", "c")])
    assert [pos[n][0] for n in "abc"] == [0.0, 1.0, 2.0]
    cyclic = layered_positions(["a", "b"], [("a", "b"), ("b", "a")])
    assert set(cyclic) == {"a", "b"}


def test_ids_in_plotly_texts_and_titles_are_escaped() -> None:
    """Plotly renders <a href>, <b>... in texts and titles: an id carrying markup must show as text."""
    import plotly.graph_objects as go

    link = '<a href="https://evil.example">x</a>'
    topology = {"nodes": [{"id": link, "health": "healthy"}, {"id": "b", "health": "healthy"}],
                "edges": [{"source": link, "target": "b", "rps": 1.0, "success_rate": 1.0, "p99_ms": 5.0,
                           "health": "healthy"}]}  # fmt: skip
    texts = [t for trace in graph_figure(go, topology).data for t in (trace.text or ())]
    title = series_figure(go, {"source": link, "target": "b", "series": {}}).layout.title.text
    assert texts and all("<a " not in t for t in [*texts, title])
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;" in title
