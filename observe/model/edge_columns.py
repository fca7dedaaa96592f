"""A plan's per-edge numbers as columns: one refresh's values folded in bulk, with numpy.

Each edge of a plan has a shape (model.edge_stats.EdgeShape): which samples, their response codes and their
flags. The layout flattens the shapes into index arrays once per plan. A refresh's fold is then a few
numpy.bincount calls: the sample values → a sum per (edge, code) "group", an edge's groups in first-seen order
→ an rps per edge; and a sum per (edge, flag). An edge's EdgeStats is made from these sums (model.topology),
and bincount adds its weights in input order starting from 0.0, as EdgeStats.shares adds an edge's codes: so
the shares here are the very floats EdgeStats gives, and the wire is the same from either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, cast

import numpy as np
import numpy.typing as npt

from observe.model.edge_stats import EdgeShape, HealthThresholds, Percentile

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]


def _indices(values: Sequence[int]) -> Ints:
    return np.array(values, dtype=np.intp)


class _Grouping:
    """Samples put in (edge, name) groups, numbered in first-seen order."""

    def __init__(self) -> None:
        self.positions: list[int] = []  # each sample's, once per group it is in
        self.groups: list[int] = []
        self.edge: list[int] = []  # each group's
        self.names: list[str] = []

    def add(self, edge_groups: dict[str, int], name: str, edge: int, position: int) -> None:
        """`edge_groups`: the edge's groups so far, by name."""
        group = edge_groups.get(name)
        if group is None:
            group = edge_groups[name] = len(self.edge)
            self.edge.append(edge)
            self.names.append(name)
        self.positions.append(position)
        self.groups.append(group)

    def arrays(self) -> tuple[Ints, Ints, Ints]:
        return _indices(self.positions), _indices(self.groups), _indices(self.edge)


class ColumnLayout:
    """The index arrays of a plan's edge shapes, and each edge's codes and flags beside their group."""

    __slots__ = ("apart", "class_4xx", "class_5xx", "class_none", "edges", "flag_edge", "flag_groups",
                 "flag_positions", "flags", "group_edge", "groups", "positions", "responses")  # fmt: skip

    def __init__(self, shapes: Sequence[EdgeShape], apart: Sequence[int] = ()) -> None:
        """`apart`: the edges whose EdgeStats hold more than these columns do (mirrored copies)."""
        self.apart = tuple(apart)
        codes, flags = _Grouping(), _Grouping()
        self.responses: list[tuple[tuple[str, int], ...]] = []  # an edge's (code, group), codes first-seen
        self.flags: list[tuple[tuple[str, int], ...]] = []  # an edge's (flag, flag group), flags first-seen
        for edge, shape in enumerate(shapes):
            code_group: dict[str, int] = {}
            flag_group: dict[str, int] = {}
            for position, code, sample_flags in zip(shape.positions, shape.codes, shape.flags, strict=True):
                codes.add(code_group, code, edge, position)
                for flag in sample_flags:
                    flags.add(flag_group, flag, edge, position)
            self.responses.append(tuple(code_group.items()))
            self.flags.append(tuple(flag_group.items()))
        self.edges = len(shapes)
        self.positions, self.groups, self.group_edge = codes.arrays()
        self.flag_positions, self.flag_groups, self.flag_edge = flags.arrays()
        # each class's groups, as the edge each belongs to (EdgeStats.shares: codes 5xx, 4xx and '0')
        self.class_5xx = _indices([g for g, code in enumerate(codes.names) if code.startswith("5")])
        self.class_4xx = _indices([g for g, code in enumerate(codes.names) if code.startswith("4")])
        self.class_none = _indices([g for g, code in enumerate(codes.names) if code == "0"])

    def fold(self, values: Floats, percentiles: Sequence[Mapping[float, Percentile] | None]) -> EdgeColumns:
        """`values`: the samples' (the shapes' positions index them); `percentiles`: each edge's."""
        group_sums = sums_by(self.groups, values[self.positions], len(self.group_edge))
        flag_sums = sums_by(self.flag_groups, values[self.flag_positions], len(self.flag_edge))
        return EdgeColumns(self, values, self.per_edge(group_sums), group_sums, flag_sums, percentiles)

    def per_edge(self, group_sums: Floats, of: Ints | None = None) -> Floats:
        """The sum of each edge's groups (of the given ones: all by default), in group order."""
        if of is None:
            return sums_by(self.group_edge, group_sums, self.edges)
        return sums_by(self.group_edge[of], group_sums[of], self.edges)


def sums_by(bins: Ints, weights: Floats, length: int) -> Floats:
    """The weights added up per bin, each bin's in input order from 0.0 (numpy.bincount's loop)."""
    return cast(Floats, np.bincount(bins, weights=weights, minlength=length))


class ColumnShares(NamedTuple):
    """EdgeStats.shares and HealthThresholds.classify of every edge; shares are NaN where an edge had no
    requests (None in EdgeStats), health is the rank (Health.rank) of each edge's."""

    error_rate_5xx: Floats
    rate_4xx: Floats
    no_response_rate: Floats
    success_rate: Floats
    health: Ints


@dataclass(frozen=True, slots=True)
class EdgeColumns:
    """One build's numbers for the edges of a plan, in the plan's edge order."""

    layout: ColumnLayout
    values: Floats  # the samples'
    rps: Floats
    group_sums: Floats  # rps per (edge, code) group
    flag_sums: Floats  # rps per (edge, flag) group
    percentiles: Sequence[Mapping[float, Percentile] | None]  # the same sequence while they are not queried again

    def shares(self, thresholds: HealthThresholds) -> ColumnShares:
        layout, rps = self.layout, self.rps
        errors, client, none = (layout.per_edge(self.group_sums, of) for of in
                                (layout.class_5xx, layout.class_4xx, layout.class_none))  # fmt: skip
        idle = rps <= 0  # no shares (EdgeStats.shares); a NaN rps is not idle and has NaN shares
        with np.errstate(divide="ignore", invalid="ignore"):
            errors, client, none = errors / rps, client / rps, none / rps
            success = np.fmax(0.0, 1.0 - errors - none)  # fmax: max(0.0, nan) is 0.0, as Python's max gives
            for share in (errors, client, none, success):
                share[idle] = np.nan
            health = np.select(  # HealthThresholds.classify, as ranks: idle 0, healthy 1, degraded 2, failing 3
                [idle, success >= thresholds.healthy, success >= thresholds.degraded], [0, 1, 2], default=3
            ).astype(np.intp)
        return ColumnShares(errors, client, none, success, health)
