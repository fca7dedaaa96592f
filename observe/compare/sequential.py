"""Repeated looks and persistence: how a live screen may re-test every refresh without inflating false alarms.

Choice: a Lan–DeMets α-spending function over the *information fraction*, with Bonferroni increments.
- Information t = n / n_plan, where n_plan is the requests per version that give 80% power against the
  reference degradation (a doubling of the baseline error rate, at least +0.1 pp): the figure §6.3 of the
  canary note tabulates (0.5% → 1.0%: 3,681). A comparison that reaches its plan in one look may spend all of
  α = 0.05 on it, so a single look keeps the power of a fixed-sample test.
- Cumulative α spent by t is the Pocock-type function α·ln(1 + (e − 1)·min(t, 1)) (Lan & DeMets 1983): it
  spends early looks more generously than O'Brien–Fleming's, which suits a screen people watch from the
  first minutes. Each look tests at the increment α(t_k) − α(t_spent). By the union bound, the chance of any
  false alarm over all looks of one comparison is at most α, whatever the number or timing of the looks;
  it is conservative (it ignores the correlation between looks) but needs no joint distribution and no plan
  of look times. A look that brings no new information (t_k ≤ t_spent: a sliding window at steady traffic)
  re-tests at the previous look's level: it reads the same information again, not new evidence.
- A comparison's budget restarts when its data are entirely new (the window has moved past the first look),
  as Flagger and Argo treat each analysis interval: α is controlled per window of data.
Always-valid confidence sequences were the alternative; at a fixed n they are much wider (lower power at the
n the note's table promises), which is why the spending approach was chosen.

Persistence: a verdict that would trigger an action (PASS → promote, FAIL/CRITICAL → roll back) must hold
for k consecutive looks (default 3, Argo's consecutive-limit idea) before `actionable` is true.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from observe.compare.proportions import n_to_detect

ALPHA = 0.05
ACTION_VERDICTS = frozenset({"PASS", "FAIL", "CRITICAL"})


def spent(t: float, alpha: float = ALPHA) -> float:
    """Cumulative α spent at information fraction t (Pocock-type Lan–DeMets function)."""
    if t <= 0:
        return 0.0
    return alpha * math.log(1 + (math.e - 1) * min(t, 1.0))


def n_plan(p_baseline: float, alpha: float = ALPHA) -> int:
    """Requests per version with 80% power against a doubling of the baseline rate (at least +0.1 pp)."""
    p_b = max(p_baseline, 0.001)
    return n_to_detect(p_b, 2 * p_b, alpha)


@dataclass
class SpendingState:
    """The α budget of one comparison across looks. Mutable, owned by whoever keeps the look history."""

    alpha: float = ALPHA
    t_spent: float = 0.0
    last_alpha: float = 0.0
    started_at: float | None = None
    looks: int = 0

    def look(self, t: float, at: float, window_s: float) -> float:
        """The one-sided α this look may test at; records the look."""
        if self.started_at is None or at - self.started_at >= window_s:
            self.t_spent, self.last_alpha, self.started_at, self.looks = 0.0, 0.0, at, 0
        self.looks += 1
        t = min(t, 1.0)  # past the plan the budget is spent: later looks re-test at the last level
        if t <= self.t_spent:
            return self.last_alpha
        increment = spent(t, self.alpha) - spent(self.t_spent, self.alpha)
        self.t_spent, self.last_alpha = t, increment
        return increment


@dataclass(frozen=True, slots=True)
class Stability:
    stable_for: int  # consecutive looks with this verdict, this one included
    actionable: bool


@dataclass
class VerdictHistory:
    """Debounce: the last verdicts of one comparison, and whether the current one has held for k looks."""

    k: int = 3
    limit: int = 50
    verdicts: deque[str] = field(default_factory=deque)

    def record(self, verdict: str) -> Stability:
        self.verdicts.append(verdict)
        while len(self.verdicts) > self.limit:
            self.verdicts.popleft()
        run = 0
        for previous in reversed(self.verdicts):
            if previous != verdict:
                break
            run += 1
        return Stability(run, verdict in ACTION_VERDICTS and run >= self.k)
