"""The compare page's pure builders: a /api/v1/compare answer (and the two versions' nodes/series) → rows and figures.

Difference band: the API's series carry a rate per step, not counts, so the counts are approximated as
n = rps × step and successes = success_rate × n for each version at each step (the rates are averaged over a
window a little longer than the step, so neighbouring points share requests: the band is a per-point guide,
not a sequence of independent tests — the verdict above it is the corrected one). Per step: Wilson score
intervals of each version's success rate, then Newcombe's hybrid score interval (method 10) for the difference
canary − stable, in percentage points. A step where either version had no requests is a gap.

Latency distribution: the ECDF of trace durations when the answer has `metrics.latency_traces.ecdf`; otherwise
the histogram's P50/P95/P99 bucket intervals at heights 0.50/0.95/0.99 (the true CDF passes through each
interval: Envoy's buckets know no more).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import plotly.graph_objects as go

from dashboards.figures import format as fmt
from dashboards.figures.series import CHART_HEIGHT, points

Z95 = 1.959964
STABLE_COLOUR, CANARY_COLOUR = "#0066cc", "#ec7a08"
# verdict → chip class (colour); an unknown verdict is neutral
VERDICT_CLASSES = {"PASS": "pass", "MARGINAL": "warn", "INSUFFICIENT_DATA": "wait", "NO_TRAFFIC": "wait",
                   "FAIL": "fail", "CRITICAL": "fail", "ERROR": "wait", "NOT_COMPARABLE": "warn"}  # fmt: skip
_PERCENTILES = (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99))


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    css: str
    reason: str
    details: tuple[str, ...]  # stability over looks, what more is needed


def verdict_of(answer: Mapping[str, Any]) -> Verdict:
    name = str(answer.get("verdict") or "ERROR")
    details = []
    if answer.get("k"):
        held = "holds: actionable" if answer.get("actionable") else "not yet actionable"
        details.append(f"stable for {answer.get('stable_for', 0)}/{answer['k']} looks ({held})")
    if answer.get("needed_more"):
        eta = answer.get("eta_s")
        when = f", about {_duration(float(eta))} at the current rate" if isinstance(eta, int | float) else ""
        details.append(f"needs about {int(answer['needed_more']):,} more requests{when}")
    if answer.get("missing"):
        details.append("missing: " + ", ".join(str(m) for m in answer["missing"]))
    return Verdict(name, VERDICT_CLASSES.get(name, "wait"), str(answer.get("reason") or ""), tuple(details))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _ci_pct(ci: Any, complement: bool = False) -> str:
    if not isinstance(ci, Sequence) or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return ""
    low, high = (1 - ci[1], 1 - ci[0]) if complement else (ci[0], ci[1])
    return f" [{low * 100:.2f}, {high * 100:.2f}]"


def _interval_ms(bounds: Any) -> str:
    if not isinstance(bounds, Sequence) or len(bounds) != 2:
        return fmt.DASH
    low, high = bounds
    return f"{fmt.millis(low)} – {'+Inf' if high is None else fmt.millis(high)}"


def _success(side: Mapping[str, Any] | None) -> str:
    if not side or side.get("rate") is None:
        return fmt.DASH
    return fmt.percent(1 - float(side["rate"])) + _ci_pct(side.get("ci"), complement=True)


def _tail(side: Mapping[str, Any] | None) -> str:
    if not side or side.get("rate") is None:
        return fmt.DASH
    return f"{float(side['rate']) * 100:.2f}%{_ci_pct(side.get('ci'))} ({side.get('count', 0)}/{side.get('n', 0)})"


def _weight(traffic: Mapping[str, Any] | None) -> str:
    if not traffic:
        return fmt.DASH
    weight = traffic.get("configured_weight")
    share = traffic.get("share")
    configured = "not set" if weight is None else f"{weight:g}%"
    return f"{configured} / {fmt.DASH if share is None else f'{float(share) * 100:.1f}%'}"


STRATEGY_NAMES = {"weights": "by weights", "match": "by request content (header / cookie / URI)",
                  "mirror": "mirroring", "blue-green": "blue-green", "none": "none (no routing rule)"}  # fmt: skip
MIRROR_MODE = ("Mirror mode: the canary gets only mirrored copies of live requests (its responses are dropped); "
               "it is judged by its own inbound metrics, and its copies are not counted as user traffic.")  # fmt: skip


def strategy_lines(answer: Mapping[str, Any]) -> list[str]:
    """What the release strategy is (kind and the API's detail) and whether the canary only sees mirrored copies."""
    strategy = answer.get("strategy")
    lines = []
    if isinstance(strategy, Mapping) and strategy.get("kind"):
        kind, detail = str(strategy["kind"]), str(strategy.get("detail") or "")
        lines.append(f"Strategy: {STRATEGY_NAMES.get(kind, kind)}" + (f" — {detail}" if detail else ""))
    if answer.get("mode") == "mirror":
        lines.append(MIRROR_MODE)
    return lines


def column_rows(answer: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(metric, stable, canary) rows of the two columns; intervals are 95 % (rates) or buckets (latency)."""
    baseline, canary = str(answer.get("baseline", "")), str(answer.get("canary", ""))
    traffic = answer.get("traffic") or {}
    metrics = answer.get("metrics") or {}
    errors = metrics.get("errors") or {}
    latency = metrics.get("latency") or {}
    tail = latency.get("tail") or {}
    rank = latency.get("rank") or {}
    tb, tc = traffic.get(baseline) or {}, traffic.get(canary) or {}
    rows = [
        ("Version", baseline, canary),
        ("RPS", fmt.rps(tb.get("rps")),
         fmt.rps(tc.get("rps")) + (" (mirrored copies)" if answer.get("mode") == "mirror" else "")),
        ("Weight / observed share", _weight(tb), _weight(tc)),
        ("Success [95% CI]", _success(errors.get("baseline")), _success(errors.get("canary"))),
    ]
    lb, lc = latency.get("baseline") or {}, latency.get("canary") or {}
    for key, _ in _PERCENTILES:
        rows.append((f"{key[:3].upper()} (histogram bucket)", _interval_ms(lb.get(key)), _interval_ms(lc.get(key))))
    boundary = latency.get("tail_boundary_ms")
    rows.append((f"Slower than {fmt.millis(boundary)}", _tail(tail.get("baseline")), _tail(tail.get("canary"))))
    cles = rank.get("cles")
    cles_text = fmt.DASH if cles is None else f"{float(cles):.2f}{_ci_plain(rank.get('ci'))}"
    rows.append(("P(canary slower) (CLES)", "reference", cles_text))
    traces = metrics.get("latency_traces") or {}
    if traces:
        xb, xc = traces.get("baseline") or {}, traces.get("canary") or {}
        rows.append(("P99 (traces)", fmt.millis(xb.get("p99_ms")), fmt.millis(xc.get("p99_ms"))))
        rows.append(("Traces (n)", f"{xb.get('n', 0):,}", f"{xc.get('n', 0):,}"))
    nb, nc = (errors.get("baseline") or {}).get("n"), (errors.get("canary") or {}).get("n")
    rows.append(("Requests (n)", fmt.DASH if nb is None else f"{nb:,}", fmt.DASH if nc is None else f"{nc:,}"))
    return rows


def _ci_plain(ci: Any) -> str:
    if not isinstance(ci, Sequence) or len(ci) != 2:
        return ""
    return f" [{float(ci[0]):.2f}, {float(ci[1]):.2f}]"


def metric_verdicts(answer: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric, verdict) of the metrics that carry one: errors, latency tail, latency rank."""
    metrics = answer.get("metrics") or {}
    latency = metrics.get("latency") or {}
    found = [("errors", metrics.get("errors")), ("latency tail", latency.get("tail")),
             ("latency shift", latency.get("rank"))]  # fmt: skip
    return [(name, str(m["verdict"])) for name, m in found if isinstance(m, Mapping) and m.get("verdict")]


# ---- time series -----------------------------------------------------------------------------------------------


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (n may be fractional: an approximated count)."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(s1: float, n1: float, s2: float, n2: float, z: float = Z95) -> tuple[float, float, float]:
    """p1 − p2 and its Newcombe hybrid score interval (method 10), from the two Wilson intervals."""
    p1, p2 = s1 / n1, s2 / n2
    (l1, u1), (l2, u2) = wilson(s1, n1, z), wilson(s2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass(frozen=True, slots=True)
class Band:
    """The difference canary − stable of success rates per step, in percentage points, with its 95 % CI."""

    times: list[datetime]
    value: list[float | None]
    low: list[float | None]
    high: list[float | None]


def _by_time(pairs: Any) -> dict[float, float | None]:
    return {float(p[0]): (None if p[1] is None else float(p[1])) for p in pairs or () if len(p) == 2}


def difference_band(stable: Mapping[str, Any], canary: Mapping[str, Any]) -> Band:
    """Per step of the canary that the stable answer has too (nearest within half a step): n = rps × step,
    successes = success_rate × n (see the module docstring)."""
    step = float(canary.get("step_s") or stable.get("step_s") or 0)
    series_s, series_c = stable.get("series") or {}, canary.get("series") or {}
    rps_s, rps_c = _by_time(series_s.get("rps")), _by_time(series_c.get("rps"))
    ok_s, ok_c = _by_time(series_s.get("success_rate")), _by_time(series_c.get("success_rate"))
    stable_times = sorted(rps_s)
    band = Band([], [], [], [])
    for t in sorted(rps_c):
        # the two answers may have been cut a second apart: pair each canary step with the nearest stable one
        i = bisect.bisect_left(stable_times, t)
        near = min(stable_times[max(0, i - 1):i + 1], key=lambda u: abs(u - t), default=None)
        if near is None or abs(near - t) > step / 2:
            continue
        band.times.append(datetime.fromtimestamp(t, tz=UTC))
        n_s, n_c = (rps_s[near] or 0.0) * step, (rps_c[t] or 0.0) * step
        s, c = ok_s.get(near), ok_c.get(t)
        d, low, high = (None, None, None) if n_s <= 0 or n_c <= 0 or s is None or c is None else \
            (x * 100 for x in newcombe(c * n_c, n_c, s * n_s, n_s))  # fmt: skip
        band.value.append(d)
        band.low.append(low)
        band.high.append(high)
    return band


def _figure(title: str, unit: str, height: int = CHART_HEIGHT + 30) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(
        title={"text": fmt.plotly_text(title), "font": {"size": 13}, "x": 0, "xanchor": "left"},
        height=height, margin={"l": 52, "r": 8, "t": 28, "b": 44}, hovermode="x unified",
        yaxis={"title": {"text": unit}}, legend={"orientation": "h", "y": -0.32, "font": {"size": 10}},
        plot_bgcolor="#ffffff", paper_bgcolor="#ffffff",
    )  # fmt: skip
    return figure


def _no_data(figure: go.Figure, text: str = "no data in this window") -> go.Figure:
    figure.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    return figure


def versions_figure(stable: Mapping[str, Any], canary: Mapping[str, Any], names: tuple[str, str], key: str,
                    title: str, unit: str, scale: float = 1.0) -> go.Figure:  # fmt: skip
    """One metric of both versions over the window (e.g. key 'rps', or 'success_rate' with scale 100)."""
    figure = _figure(title, unit)
    found = False
    for answer, name, colour in ((stable, names[0], STABLE_COLOUR), (canary, names[1], CANARY_COLOUR)):
        xs, ys = points((answer.get("series") or {}).get(key), scale)
        if xs:
            found = True
            figure.add_trace(go.Scatter(x=xs, y=ys, name=fmt.plotly_text(name), mode="lines",
                                        line={"color": colour}, connectgaps=False))  # fmt: skip
    return figure if found else _no_data(figure)


def difference_figure(band: Band) -> go.Figure:
    figure = _figure("Success difference canary − stable (95% CI, approximate)", "pp")
    if not any(v is not None for v in band.value):
        return _no_data(figure)
    figure.add_trace(go.Scatter(x=band.times, y=band.high, mode="lines", line={"width": 0}, showlegend=False,
                                hoverinfo="skip", connectgaps=False))  # fmt: skip
    figure.add_trace(go.Scatter(x=band.times, y=band.low, mode="lines", line={"width": 0}, fill="tonexty",
                                fillcolor="rgba(236,122,8,0.2)", name="95% CI", connectgaps=False))  # fmt: skip
    figure.add_trace(go.Scatter(x=band.times, y=band.value, mode="lines+markers", name="difference",
                                line={"color": CANARY_COLOUR}, connectgaps=False))  # fmt: skip
    figure.add_hline(y=0, line={"dash": "dot", "color": "#6a6e73", "width": 1})
    return figure


def latency_distribution(answer: Mapping[str, Any]) -> go.Figure:
    """ECDF of both versions from traces, else their histogram percentile intervals (module docstring)."""
    metrics = answer.get("metrics") or {}
    names = (str(answer.get("baseline", "stable")), str(answer.get("canary", "canary")))
    ecdf = ((metrics.get("latency_traces") or {}).get("ecdf")) or {}
    if ecdf.get("baseline") or ecdf.get("canary"):
        figure = _figure("Latency distribution (traces, ECDF)", "fraction ≤ x", height=240)
        for side, name, colour in (("baseline", names[0], STABLE_COLOUR), ("canary", names[1], CANARY_COLOUR)):
            pairs = [p for p in ecdf.get(side) or [] if len(p) == 2]
            figure.add_trace(go.Scatter(x=[p[0] for p in pairs], y=[p[1] for p in pairs], mode="lines",
                                        line={"shape": "hv", "color": colour}, name=fmt.plotly_text(name)))  # fmt: skip
        figure.update_xaxes(type="log", title={"text": "ms"})
        return figure
    figure = _figure("Latency percentiles (histogram buckets; no trace ECDF)", "percentile", height=240)
    latency = metrics.get("latency") or {}
    found = False
    for side, name, colour, offset in (("baseline", names[0], STABLE_COLOUR, -0.004),
                                       ("canary", names[1], CANARY_COLOUR, 0.004)):  # fmt: skip
        xs: list[float | None] = []
        ys: list[float | None] = []
        for key, level in _PERCENTILES:
            bounds = (latency.get(side) or {}).get(key)
            if isinstance(bounds, Sequence) and len(bounds) == 2 and bounds[0] is not None:
                high = bounds[1] if bounds[1] is not None else bounds[0] * 2  # +Inf: draw an open-ended bar
                xs += [max(float(bounds[0]), 0.1), float(high), None]
                ys += [level + offset, level + offset, None]
        if xs:
            found = True
            figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", line={"color": colour, "width": 4},
                                        name=fmt.plotly_text(name), connectgaps=False))  # fmt: skip
    figure.update_xaxes(type="log", title={"text": "ms (bucket interval)"})
    figure.update_yaxes(tickvals=[0.5, 0.95, 0.99], ticktext=["P50", "P95", "P99"], range=[0.45, 1.02])
    return figure if found else _no_data(figure)


# ---- downstream calls ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboundRow:
    service: str
    change: str  # new | missing | changed | same (as the API says)
    css: str  # colour class: new / missing / worse / same
    stable: str
    canary: str
    canary_errors: str


def _calls(side: Mapping[str, Any] | None) -> str:
    if not side:
        return "no calls"
    per = side.get("calls_per_request")
    return f"{fmt.DASH if per is None else f'{float(per):.2f}'} per request ({side.get('calls', 0)} calls)"


def outbound_rows(answer: Mapping[str, Any]) -> list[OutboundRow]:
    rows = []
    for item in (answer.get("metrics") or {}).get("outbound") or []:
        if not isinstance(item, Mapping):
            continue
        stable, canary = item.get("baseline") or {}, item.get("canary") or {}
        change = str(item.get("change") or "same")
        worse = float(canary.get("error_rate") or 0) > float(stable.get("error_rate") or 0)
        css = change if change in ("new", "missing") else "worse" if worse else "same"
        errors = f"{fmt.percent(canary.get('error_rate'))}" if canary else fmt.DASH
        rows.append(OutboundRow(str(item.get("service", "?")), change, css, _calls(stable), _calls(canary), errors))
    return rows


def audit_as_annotations(audit: Mapping[str, Any] | None) -> dict[str, Any]:
    """An /api/v1/audit answer in the shape of /api/v1/annotations (for an API without the latter): one
    annotation per applied change (a refused or conflicting write changed nothing)."""
    return {"annotations": [
        {"time": e["ts"], "kind": e.get("action"), "target": e.get("target"),
         "title": f"{e.get('action')}: {e['reason']}" if e.get("reason") else str(e.get("action"))}
        for e in (audit or {}).get("entries") or []
        if isinstance(e, Mapping) and e.get("result") == "applied" and isinstance(e.get("ts"), int | float)
    ]}  # fmt: skip
