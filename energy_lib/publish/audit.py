"""The audit: attack a release by linear programming, as a reader holding every published file could.

For every withheld row that failed the primary rule, each protected number :math:`x_i` (true value
:math:`v_i`) must keep an *interval* a reader cannot narrow: the smallest and largest values of
:math:`x_i` consistent with everything published,

.. math::

    \\underline{x}_i = \\min x_i, \\quad \\overline{x}_i = \\max x_i
    \\quad \\text{s.t.} \\quad A_H x_H = -A_P v_P, \\quad x_H \\ge \\ell_H,

where :math:`A` holds every relation of the release (:mod:`energy_lib.publish.release`), :math:`H`
the withheld and :math:`P` the published numbers, and :math:`\\ell` the lower bounds a reader knows
(0 for use). The row is *protected* when :math:`\\underline{x}_i \\le v_i - p |v_i|` and
:math:`\\overline{x}_i \\ge v_i + p |v_i|` with the protection level :math:`p` (``config/privacy.toml``,
15% by default): the attacker's interval reaches at least :math:`p` of the true value below and
above it (a saving may be negative). This is the attacker model of sdcTable's ``attack`` and τ-ARGUS's audit [1]_, [2]_.

The withheld numbers split into independent components (numbers linked by relations through other
withheld numbers); each component is one small linear programme, solved with HiGHS [3]_ through
``highspy`` with warm starts. Most bounds are proven by a few LPs that push many numbers at once (a
feasible point that reaches :math:`(1+p) v_i` proves the upper side of every such :math:`i`); the
rest get one LP per side, which also names the relations that bind.

References
----------
.. [1] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, section 4.3 (the
   attacker's intervals, upper and lower protection levels).
.. [2] B. Meindl, sdcTable, R package, function ``attack``.
.. [3] Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method",
   *Mathematical Programming Computation* 10, 119-142, 2018 (HiGHS).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from energy_lib.publish.release import Release

__all__ = ["AuditResult", "attack", "TOLERANCE"]

TOLERANCE = 1e-6
"""Slack on the protection test, relative to the true value: LP solutions are exact only to the
solver's feasibility tolerance, and a bound within this of :math:`(1 \\pm p) v` counts as reached."""

_INF = highspy.kHighsInf
_ENDED = (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kUnbounded,
          highspy.HighsModelStatus.kUnboundedOrInfeasible)


@dataclass(frozen=True)
class AuditResult:
    """What an attacker can derive about each withheld primary number.

    Attributes
    ----------
    level : float
        The protection level the audit checked [fraction of the true value].
    intervals : pandas.DataFrame
        One row per protected variable of a withheld primary row: ``variable`` (position in the
        release), ``row``, ``table``, ``name``, ``value``, ``lower`` and ``upper`` (the attacker's
        bounds; a bound proven to reach the protection level without being computed exactly is
        reported at that level: ``(1 ± p) v``), ``ok``, and ``binding``: for each failing side,
        ``(relation, side, sensitivity)`` triples: the relations that bind it (positions in
        ``release.relations``), ``"up"`` or ``"down"``, and how the attacker's bound moves per unit
        change of the relation's published side [value's unit per unit] (the LP's dual value).
    """

    level: float
    intervals: pd.DataFrame

    @property
    def failures(self) -> pd.DataFrame:
        return self.intervals[~self.intervals["ok"]]

    @property
    def passed(self) -> bool:
        return bool(self.intervals["ok"].all())

    def protection_ratio(self) -> pd.Series:
        """Per interval, how far the attacker's bounds stay from the value, as a fraction of it:
        :math:`\\min(\\overline{x}/v - 1, 1 - \\underline{x}/v)`; ``inf`` for a zero value."""
        value = self.intervals["value"].to_numpy(float)
        size = np.abs(value)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.minimum((self.intervals["upper"].to_numpy(float) - value) / size,
                               (value - self.intervals["lower"].to_numpy(float)) / size)
        return pd.Series(np.where(size > 0, ratio, np.inf), index=self.intervals.index, name="protection")


def attack(release: Release, hidden: np.ndarray, *, level: float,
           only: np.ndarray | None = None) -> AuditResult:
    """The attacker's interval for every protected number of every withheld primary row.

    Parameters
    ----------
    release : Release
        Rows, variables and relations.
    hidden : numpy.ndarray of bool
        Per release row, whether it is withheld.
    level : float
        Protection level :math:`p` [fraction], e.g. 0.15.
    only : numpy.ndarray of int, optional
        Attack only these variables (positions in the release), in the components that hold them;
        default every protected number. The protection loop attacks again only the numbers that
        failed: withholding more rows only widens the attacker's intervals (the published values
        of the new rows stay one feasible point), so a number once protected stays protected.

    Returns
    -------
    AuditResult
    """
    hidden = np.asarray(hidden, bool)
    hidden_variable = hidden[release.variable_row]
    columns = np.flatnonzero(hidden_variable)
    a = release.relations.tocsc()
    a_hidden = a[:, columns].tocsr()
    # What the published side of each relation adds up to, as the attacker reads it: -(A_pub v_pub)
    # = A_hidden v_hidden, which the builder checked. The hidden side is the one computed: a city's
    # gigawatt-hours minus its gus' leave a rounding error of ~10⁻⁶ kWh, more than a hidden cell of
    # nearly nothing may differ by at the solver's tolerance (the LP would be infeasible).
    rhs = a_hidden @ release.value[columns]
    used = np.flatnonzero(np.diff(a_hidden.indptr) > 0)
    a_hidden, rhs = a_hidden[used], rhs[used]

    is_target = (release.protected & (release.row_primary[release.variable_row] != "") & hidden_variable)[columns]
    if only is not None:
        wanted = np.isin(columns, np.asarray(only, np.int64))
    else:
        wanted = np.ones(len(columns), bool)
    n_var, n_rel = len(columns), len(used)
    graph = sp.bmat([[None, a_hidden.T], [a_hidden, None]], format="csr") if n_rel else sp.csr_matrix((n_var, n_var))
    _, label = connected_components(graph, directed=False)
    var_label, rel_label = label[:n_var], label[n_var:]

    records = []
    target_components = np.unique(var_label[is_target & wanted])
    relations_by_component = pd.Series(np.arange(n_rel)).groupby(rel_label).indices if n_rel else {}
    variables_by_component = pd.Series(np.arange(n_var)).groupby(var_label).indices
    for component in target_components:
        local = variables_by_component[component]
        local_relations = relations_by_component.get(component, np.array([], np.int64))
        records.extend(_attack_component(release, columns[local], (is_target & wanted)[local],
                                         a_hidden[local_relations][:, local], rhs[local_relations],
                                         used[local_relations], level))
    intervals = pd.DataFrame.from_records(
        records, columns=["variable", "lower", "upper", "ok", "binding"])
    # typed even when nothing is withheld (no record at all)
    intervals = intervals.astype({"variable": np.int64, "lower": float, "upper": float})
    row = release.variable_row[intervals["variable"].to_numpy()]
    intervals.insert(1, "row", row)
    intervals.insert(2, "table", release.row_table[row])
    intervals.insert(3, "name", release.variable_name[intervals["variable"].to_numpy()])
    intervals.insert(4, "value", release.value[intervals["variable"].to_numpy()])
    intervals["ok"] = intervals["ok"].astype(bool)
    return AuditResult(level=level, intervals=intervals.sort_values("variable", ignore_index=True))


def _attack_component(release: Release, variables: np.ndarray, target: np.ndarray, a: sp.csr_matrix,
                      rhs: np.ndarray, relation_ids: np.ndarray, level: float) -> list[tuple]:
    """Intervals of one component's targets (see :func:`attack`). Variables are scaled by their
    true values, so that every target's test reads ``y ≥ 1 + p`` and ``y ≤ 1 - p`` whatever its
    magnitude (a dong's 300 kWh beside the city's gigawatt-hours)."""
    value = release.value[variables]
    scale = np.where(np.abs(value) > 0, np.abs(value), 1.0)
    lower = release.lower[variables] / scale
    targets = np.flatnonzero(target & (value != 0))
    zero_targets = np.flatnonzero(target & (value == 0))
    out = [(int(variables[t]), 0.0, 0.0, True, ()) for t in zero_targets]
    if len(targets) == 0:
        return out
    # in units of |v|, a target's true value is its sign (a saving may be negative): the goals are
    # sign ± level for every target
    centre = np.sign(value)
    up_goal_of = centre + level - TOLERANCE
    down_goal_of = centre - level + TOLERANCE
    if a.shape[0] == 0:  # no relation reaches these numbers: anything from the lower bound up
        return out + [(int(variables[t]), release.lower[variables[t]], np.inf, lower[t] <= down_goal_of[t], ())
                      for t in targets]
    scaled = a @ sp.diags(scale)
    # rows scaled to a largest coefficient of 1: a dong's few hundred kWh beside a gu's millions
    # stay well above the solver's tolerance
    row_scale = np.asarray(abs(scaled).max(axis=1).todense()).ravel()
    solver = _Solver(sp.diags(1 / row_scale) @ scaled, rhs / row_scale, lower)
    upper_bound = np.full(len(targets), np.nan)
    lower_bound = np.full(len(targets), np.nan)
    binding: dict[int, tuple] = {}

    # Many at once: push every unproven target up, then down, each held at its goal (which keeps
    # the LP bounded: a saving has no lower bound); each optimum proves the targets it reaches.
    for sense, goal, bound in ((1, up_goal_of, upper_bound), (-1, down_goal_of, lower_bound)):
        open_ = np.ones(len(targets), bool)
        while open_.any():
            chosen = targets[open_]
            y = solver.solve(chosen, sense, limit=centre[chosen] + sense * level)
            if y is None:
                break
            reached = (y[chosen] >= goal[chosen]) if sense > 0 else (y[chosen] <= goal[chosen])
            if not reached.any():
                break
            index = np.flatnonzero(open_)[reached]
            bound[index] = centre[targets[index]] + (level if sense > 0 else -level)
            open_[index] = False
    # One at a time for the rest: the exact bound, and the relations that bind it.
    for sense, side, bound in ((1, "up", upper_bound), (-1, "down", lower_bound)):
        for i in np.flatnonzero(np.isnan(bound)):
            y, rows, duals = solver.solve_one(targets[i], sense)
            bound[i] = (np.inf if sense > 0 else lower[targets[i]]) if y is None else y
            t = targets[i]
            if (sense > 0 and bound[i] < up_goal_of[t]) or (sense < 0 and bound[i] > down_goal_of[t]):
                # d(bound)/d(published side of the relation), back in the relation's own units
                sensitivity = scale[targets[i]] * duals / row_scale[rows]
                binding[i] = binding.get(i, ()) + tuple(
                    (int(r), side, float(g)) for r, g in zip(relation_ids[rows], sensitivity))
    for i, t in enumerate(targets):
        ok = bool(upper_bound[i] >= up_goal_of[t] and lower_bound[i] <= down_goal_of[t])
        out.append((int(variables[t]), lower_bound[i] * scale[t], upper_bound[i] * scale[t], ok, binding.get(i, ())))
    return out


class _Solver:
    """One component's LP, kept in HiGHS between solves (warm starts): ``a y = rhs``, ``y ≥ lower``."""

    def __init__(self, a: sp.csr_matrix, rhs: np.ndarray, lower: np.ndarray):
        self.n = a.shape[1]
        self.lower = np.where(np.isfinite(lower), lower, -_INF)  # HiGHS's own infinity
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("presolve", "off")
        # tight tolerances: a small number's 15% must not hide in the solver's slack
        self.highs.setOptionValue("primal_feasibility_tolerance", 1e-9)
        self.highs.setOptionValue("dual_feasibility_tolerance", 1e-9)
        csc = a.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = self.lower
        lp.col_upper_ = np.full(self.n, _INF)
        lp.row_lower_ = rhs
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr
        lp.a_matrix_.index_ = csc.indices
        lp.a_matrix_.value_ = csc.data
        self.highs.passModel(lp)
        self.cost = np.zeros(self.n)
        self.limited = np.array([], np.int64)

    def _objective(self, columns: np.ndarray, sense: int) -> None:
        cost = np.zeros(self.n)
        cost[columns] = 1.0
        changed = np.flatnonzero(cost != self.cost)
        if len(changed):
            self.highs.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
        self.cost = cost
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize if sense > 0 else highspy.ObjSense.kMinimize)

    def _limit(self, columns: np.ndarray, sense: int, limit: np.ndarray | None) -> None:
        """Bound ``columns`` at ``limit`` in the direction of ``sense`` (an upper bound going up, a
        lower bound going down, never below the column's own); the last call's limits are lifted."""
        if len(self.limited):
            self.highs.changeColsBounds(len(self.limited), self.limited.astype(np.int32), self.lower[self.limited],
                                        np.full(len(self.limited), _INF))
            self.limited = np.array([], np.int64)
        if limit is not None and len(columns):
            lower = self.lower[columns]
            if sense > 0:
                bounds = lower, np.asarray(limit, float)
            else:
                bounds = np.maximum(lower, limit), np.full(len(columns), _INF)
            self.highs.changeColsBounds(len(columns), columns.astype(np.int32), *bounds)
            self.limited = columns

    def solve(self, columns: np.ndarray, sense: int, *, limit: np.ndarray | None = None) -> np.ndarray | None:
        """A vertex optimising the sum of ``columns`` (up for ``sense`` 1, down for -1), each held at
        most (least) at ``limit`` when given, or None when there is no finite optimum."""
        self._objective(columns, sense)
        self._limit(columns, sense, limit)
        self.highs.run()
        if self.highs.getModelStatus() not in _ENDED:
            # a numerical failure of the warm start: solve again from scratch
            self.highs.clearSolver()
            self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(self.highs.getSolution().col_value)

    def solve_one(self, column: int, sense: int) -> tuple[float | None, np.ndarray, np.ndarray]:
        """The optimum of one column (None when unbounded), the relations binding it and their dual
        values (the optimum's change per unit change of the relation's right-hand side)."""
        y = self.solve(np.array([column]), sense)
        if y is None:
            status = self.highs.getModelStatus()
            if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
                return None, np.array([], np.int64), np.array([])
            raise RuntimeError(f"the audit's LP ended with {self.highs.modelStatusToString(status)}: the published "
                               "numbers contradict the relations (a builder bug)")
        duals = np.asarray(self.highs.getSolution().row_dual)
        rows = np.flatnonzero(np.abs(duals) > 1e-9)
        return float(y[column]), rows, duals[rows]
