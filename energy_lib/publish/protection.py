"""Protection: which rows of a release to withhold so that the audit finds nothing to recover.

1. **Primary suppression**: a row fails the rule of ``config/privacy.toml`` (15/15 by default:
   at least 15 end customers, none above 15% of the total); the table builders record why in the
   release's ``primary`` (:mod:`energy_lib.publish.tables`).
2. **Secondary (complementary) suppression** by a cost model: more rows are withheld until every
   primary number keeps an attacker's interval of at least the protection level on both sides
   (:mod:`energy_lib.publish.audit`). Each complement is the cheapest published row of a relation
   that binds a failing number and can widen it: one whose value can absorb the protection level
   (its *capacity*), or one on the other side of the equation, which moves with it. A row's cost
   is set by its table builder (low-level, small rows are cheap; a gu total is expensive; the city
   total is locked and withheld only when nothing else protects), and halves when its series is
   already withheld in another period, so that the same series is withheld across months rather
   than a scatter that annual totals would undo.

   A fast local pass runs first, relation by relation (Cox's conditions [1]_): no relation with
   a single withheld number, and within each relation enough capacity for every primary number.
   Then the audit runs on the whole release, and each number that still fails gets a complement in
   a relation binding it (the LP's dual values say which); only the numbers that failed are
   attacked again (withholding more rows only widens the others' intervals). Rows are only ever
   added, so it ends; it raises when a failure has no row left to withhold, and never returns a
   release that fails. Last, complements that a reader can work
   out exactly anyway (alone in a relation) are published again: they protect nothing.

References
----------
.. [1] L. H. Cox, "Suppression methodology and statistical disclosure control", *Journal of the
   American Statistical Association* 75(370), 377-385, 1980.
.. [2] A. Hundepool et al., *Statistical Disclosure Control*, Wiley, 2012, section 4.4 (secondary
   suppression, cost functions, hierarchical and linked tables).
.. [3] M. Fischetti and J.-J. Salazar-González, "Solving the cell suppression problem on tabular
   data with linear constraints", *Management Science* 47(7), 1008-1027, 2001.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.publish import privacy
from energy_lib.publish.audit import TOLERANCE, AuditResult, attack
from energy_lib.publish.release import Release

__all__ = ["Protection", "ProtectionError", "protect", "REASONS"]

REASONS = (*privacy.REASONS, "complementary")
"""Why a row is withheld (``""``: published): the primary rule's reasons, or as a complement."""

_LOG = logging.getLogger(__name__)
_SERIES_DISCOUNT = 0.5
"""Cost factor of a row whose series is already withheld in another period."""
_LOCKED = 1e12
"""Added to the cost of a locked row: chosen only when no other row of the relation helps."""


class ProtectionError(RuntimeError):
    """No row is left to withhold that would protect a primary number: the release is not written."""


@dataclass(frozen=True)
class Protection:
    """The withheld rows of a release, why, and the audit that proves them safe.

    Attributes
    ----------
    hidden : numpy.ndarray of bool
        Per release row.
    reason : numpy.ndarray of str
        Per release row: ``too_few_customers``, ``dominant_customer``, ``complementary`` or ``""``.
    audit : AuditResult
        The final attack: every interval ``ok``.
    rounds : int
        Audit rounds the secondary suppression took.
    seconds : dict of str to float
        Time of the local pass, the audit rounds and the whole [s].
    """

    hidden: np.ndarray
    reason: np.ndarray
    audit: AuditResult
    rounds: int
    seconds: dict[str, float]


def protect(release: Release, *, level: float, max_rounds: int = 200) -> Protection:
    """Withhold the primary rows and the cheapest complements that protect them (module docstring).

    Parameters
    ----------
    release : Release
        The release with each row's primary verdict, cost and lock.
    level : float
        Protection level [fraction of the value], e.g. 0.15.
    max_rounds : int
        Audit rounds at most before giving up.

    Raises
    ------
    ProtectionError
        When a primary number cannot be protected (every row of its binding relations is withheld
        already) or the rounds run out.
    """
    started = time.perf_counter()
    primary = release.row_primary != ""
    terms = _terms(release)
    hidden = _local_pass(release, terms, primary.copy(), level)
    local_done = time.perf_counter()
    records: dict[int, tuple] = {}
    again: np.ndarray | None = None
    failed_before: set[int] = set()
    for rounds in range(1, max_rounds + 1):
        result = attack(release, hidden, level=level, only=again)
        records.update({int(v): r for v, r in zip(result.intervals["variable"], result.intervals.itertuples(index=False))})
        intervals = pd.DataFrame(list(records.values())) if records else result.intervals  # (then empty)
        failures = intervals[~intervals["ok"]]
        if failures.empty:
            break
        # a number that failed in an earlier round too gets a complement in every relation that
        # binds it (the LP's estimate held only until its basis changed)
        stubborn = np.array([int(v) in failed_before for v in failures["variable"]], bool)
        failed_before.update(int(v) for v in failures["variable"])
        complements = _complements_for_failures(release, terms, hidden, failures, level, stubborn)
        if not complements.any():
            raise ProtectionError(f"{len(failures)} primary number(s) cannot be protected at ±{level:.0%}: every row of "
                                  f"their binding relations is withheld, e.g. {_describe(release, failures)}")
        _LOG.info("audit round %d: %d number(s) recoverable, %d complement(s) added, %.1f s", rounds, len(failures),
                  int(complements.sum()), time.perf_counter() - started)
        hidden |= complements
        # the numbers to attack again: the failures (more withheld rows only widen the others' intervals)
        again = failures["variable"].to_numpy()
    else:
        raise ProtectionError(f"secondary suppression did not converge in {max_rounds} audit rounds")
    hidden = _publish_determined(release, hidden, primary)
    final = AuditResult(level=level, intervals=intervals.sort_values("variable", ignore_index=True))
    reason = np.where(hidden & ~primary, REASONS[2], release.row_primary)  # object, as row_primary
    finished = time.perf_counter()
    return Protection(hidden=hidden, reason=reason, audit=final, rounds=rounds,
                      seconds={"local": local_done - started, "audit": finished - local_done,
                               "total": finished - started})


def _publish_determined(release: Release, hidden: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """Publish again the complements a reader can work out exactly anyway: a withheld number alone
    among the withheld numbers of a relation is the relation's published side, so withholding it
    protects nothing and only takes a figure from the reader. Publishing it changes nothing the
    attacker can derive; publishing it may leave another complement alone in its relations, so
    this repeats."""
    a = release.relations.tocsc()
    hidden = hidden.copy()
    while True:
        hidden_variable = hidden[release.variable_row]
        counts = np.asarray((a[:, hidden_variable] != 0).sum(axis=1)).ravel()
        alone = a[counts == 1][:, hidden_variable].tocoo().col  # positions among the hidden variables
        determined = np.zeros(len(release.variable_row), bool)
        determined[np.flatnonzero(hidden_variable)[alone]] = True
        # a row is known when every one of its variables is
        known = np.ones(release.n_rows, bool)
        np.logical_and.at(known, release.variable_row, determined | ~hidden_variable)
        release_rows = hidden & known & ~primary
        if not release_rows.any():
            return hidden
        hidden[release_rows] = False


def _describe(release: Release, failures: pd.DataFrame) -> str:
    """The first failure: its table, key, number and the kinds of relation that bind it."""
    first = failures.iloc[0]
    table = release.tables[first["table"]]
    key = table.rows.iloc[int(first["row"]) - release.row_offset[first["table"]]][table.by].to_dict()
    kinds = sorted({release.relation_kind[relation] for relation, _, _ in first["binding"]})
    return f"{first['table']} {key} {first['name']} (bound by relations of {', '.join(kinds) or 'none'})"


def _effective_cost(release: Release, hidden: np.ndarray) -> np.ndarray:
    """Each row's cost now: halved where its series is withheld in another period, locked rows last."""
    series_hidden = np.isin(release.row_series, release.row_series[hidden])
    cost = release.row_cost * np.where(series_hidden, _SERIES_DISCOUNT, 1.0)
    return cost + np.where(release.row_locked, _LOCKED, 0.0)


def _terms(release: Release) -> pd.DataFrame:
    """The relations as one row per nonzero term: relation, variable, row, coefficient, value and
    how far the number can fall (value − lower bound; inf for a signed number)."""
    coo = release.relations.tocoo()
    variable = coo.col
    return pd.DataFrame({"relation": coo.row, "variable": variable, "row": release.variable_row[variable],
                         "coefficient": coo.data, "value": release.value[variable],
                         "room": release.value[variable] - release.lower[variable]})


def _local_pass(release: Release, terms: pd.DataFrame, hidden: np.ndarray, level: float) -> np.ndarray:
    """Cox's conditions relation by relation, until none fails: a withheld number is never alone
    in a relation, and each primary number has capacity ``level × value`` on both sides."""
    if terms.empty:
        return hidden
    target = (release.protected & (release.row_primary[release.variable_row] != ""))[terms["variable"].to_numpy()]
    for _ in range(10_000):
        is_hidden = hidden[terms["row"].to_numpy()]
        need = _local_needs(terms, is_hidden, target, level)
        if need.empty:
            return hidden
        chosen = _choose(terms, is_hidden, need, _effective_cost(release, hidden), ["relation", "variable"])
        if not chosen.size:  # (chosen rows are published ones: each pass withholds more)
            return hidden  # what is left the audit will name
        hidden = hidden.copy()
        hidden[chosen] = True
    return hidden


def _local_needs(terms: pd.DataFrame, is_hidden: np.ndarray, target: np.ndarray, level: float) -> pd.DataFrame:
    """The (relation, variable, side, deficit) that a relation alone leaves unprotected.

    In a relation :math:`\\sum_j a_j x_j = c`, moving a withheld :math:`x_t` up by :math:`\\delta`
    needs the other withheld numbers to move by :math:`-a_t\\delta` in total: one with the opposite
    sign rises freely (unbounded here), one with the same sign must fall, by at most its room.
    So the room up is unbounded if a withheld number of the opposite sign exists, else the sum of the
    same-sign numbers' rooms; downwards the roles swap."""
    hidden_terms = terms[is_hidden].assign(target=target[is_hidden])
    a = hidden_terms["coefficient"].to_numpy()
    room = np.abs(a) * hidden_terms["room"].to_numpy()
    endless = np.isinf(room)  # a signed number (a saving) can fall without end
    finite = np.where(endless, 0.0, room)
    positive = a > 0
    # per relation: how many withheld numbers of each sign, their finite rooms, how many endless
    # (sums of booleans count)
    by_relation = pd.DataFrame({"relation": hidden_terms["relation"].to_numpy(), "pos": positive, "neg": ~positive,
                                "pos_room": finite * positive, "neg_room": finite * ~positive,
                                "pos_endless": positive & endless,
                                "neg_endless": ~positive & endless}).groupby("relation").sum()
    joined = by_relation.reindex(hidden_terms["relation"].to_numpy())
    same_count = np.where(positive, joined["pos"], joined["neg"]) - 1
    other_count = np.where(positive, joined["neg"], joined["pos"])
    same_endless = np.where(positive, joined["pos_endless"], joined["neg_endless"]) - endless
    other_endless = np.where(positive, joined["neg_endless"], joined["pos_endless"])
    same_room = np.where(same_endless > 0, np.inf, np.where(positive, joined["pos_room"], joined["neg_room"]) - finite)
    other_room = np.where(other_endless > 0, np.inf, np.where(positive, joined["neg_room"], joined["pos_room"]))
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(other_count > 0, np.inf, same_room / np.abs(a))
        down = np.where(same_count > 0, np.inf, other_room / np.abs(a))
    value = np.abs(hidden_terms["value"].to_numpy())  # a saving's protection is a share of its size
    is_target = hidden_terms["target"].to_numpy() & (value > 0)
    # a withheld number alone in its relation is known exactly, primary or not
    alone = (same_count + other_count) == 0
    want = np.where(is_target, level * value * (1 + TOLERANCE), 0.0)
    need_up = alone | (is_target & (up < want))
    need_down = alone | (is_target & (down < want))
    parts = []
    for side, mask, have in (("up", need_up, up), ("down", need_down, down)):
        # a needed side's room is finite: short of the want, or alone (no partner to make it endless)
        parts.append(pd.DataFrame({"relation": hidden_terms["relation"].to_numpy()[mask],
                                   "variable": hidden_terms["variable"].to_numpy()[mask],
                                   "sign": np.sign(a[mask]), "side": side,
                                   "deficit": np.maximum(want[mask] - have[mask], 0.0)}))
    return pd.concat(parts, ignore_index=True)


def _choose(terms: pd.DataFrame, is_hidden: np.ndarray, need: pd.DataFrame, cost: np.ndarray,
            per: list[str]) -> np.ndarray:
    """Per group ``per`` of needs (a relation and a withheld number), the cheapest published row of
    the relation that meets every side the group needs (else the most), as release row positions.

    A published number helps the upper side when it has the opposite sign to the withheld number
    (it moves along freely) or the same sign and room to fall by the deficit; the lower side when
    it has the same sign, or the opposite sign and room to fall."""
    published = terms[~is_hidden]
    candidates = need.merge(published[["relation", "row", "coefficient", "room"]], on="relation")
    if candidates.empty:
        return np.array([], np.int64)
    same = np.sign(candidates["coefficient"].to_numpy()) == candidates["sign"].to_numpy()
    free = np.where(candidates["side"].to_numpy() == "up", ~same, same)
    capacity = np.where(free, np.inf, np.abs(candidates["coefficient"].to_numpy()) * candidates["room"].to_numpy())
    candidates["enough"] = capacity >= candidates["deficit"].to_numpy()
    candidates["capacity"] = capacity
    # an unlocked row before a locked one; then one that meets every side the group needs, else
    # one that meets fewer (the next pass adds another); then the cheapest, most capacity, row
    needed = need.groupby(per).size().rename("needed")
    scored = candidates.groupby([*per, "row"]).agg(met=("enough", "sum"), capacity=("capacity", "min"))
    scored = scored.join(needed, on=per).reset_index()
    scored["cost"] = cost[scored["row"].to_numpy()]
    scored["locked"] = scored["cost"] >= _LOCKED
    scored["unmet"] = scored["needed"] - scored["met"]
    best = scored.sort_values(["locked", "unmet", "cost", "capacity", "row"], ascending=[True, True, True, False, True])
    return np.unique(best.drop_duplicates(per)["row"].to_numpy())


def _complements_for_failures(release: Release, terms: pd.DataFrame, hidden: np.ndarray, failures: pd.DataFrame,
                              level: float, stubborn: np.ndarray) -> np.ndarray:
    r"""One complement per failing side: the cheapest published row whose release moves the
    attacker's bound far enough, judged by the LP's dual values.

    With :math:`s_r` the bound's change per unit change of relation :math:`r`'s published side
    (:func:`energy_lib.publish.audit.attack`), withholding a published number :math:`x_j` lets it
    move the bound at the rate :math:`g_j = -\sum_r a_{rj} s_r`: upwards without limit when the
    move it needs is a rise, and by at most :math:`|g_j|` times its room when it is a fall. The
    estimate holds until the LP's basis changes; the next audit round checks it."""
    published = terms[~hidden[terms["row"].to_numpy()]]
    # group -1: the best row over all binding relations; a stubborn failure also gets the best
    # unlocked row of each binding relation (group = the relation)
    records = [(int(f.variable), side, relation, sensitivity, abs(f.value),
                max(f.value + level * abs(f.value) - f.upper, 0.0) if side == "up"
                else max(f.lower - (f.value - level * abs(f.value)), 0.0),
                group)
               for f, again in zip(failures.itertuples(index=False), stubborn) for relation, side, sensitivity in f.binding
               for group in ((-1, relation) if again else (-1,))]
    if not records:
        return np.zeros(release.n_rows, bool)
    binding = pd.DataFrame.from_records(records, columns=["target", "side", "relation", "sensitivity", "value", "deficit",
                                                          "group"])
    candidates = binding.merge(published[["relation", "variable", "row", "coefficient", "room"]], on="relation")
    # g_j over the binding relations, each once (a stubborn failure's relations are listed twice:
    # in group -1 and in their own group)
    candidates["rate"] = np.where(candidates["group"] == -1, -candidates["coefficient"] * candidates["sensitivity"], 0.0)
    rate = candidates.groupby(["target", "side", "variable"], sort=False)["rate"].transform("sum")
    per = candidates.assign(rate=rate).drop_duplicates(["target", "side", "variable", "group"])
    per = per[np.abs(per["rate"]) > 1e-12 * np.maximum(per["value"], 1.0)]
    if per.empty:
        return np.zeros(release.n_rows, bool)
    wanted = np.where(per["side"] == "up", 1.0, -1.0)
    rises = np.sign(per["rate"].to_numpy()) == wanted  # the number must rise to move the bound the right way
    gain = np.where(rises, np.inf, np.abs(per["rate"].to_numpy()) * per["room"].to_numpy())
    cost = _effective_cost(release, hidden)[per["row"].to_numpy()]
    # tiers: 0 enough, 1 not enough, 2 and 3 the same for locked rows (which only group -1 takes)
    enough = gain >= per["deficit"].to_numpy() * (1 + TOLERANCE)
    per["tier"] = np.where(cost >= _LOCKED, 2, 0) + np.where(enough, 0, 1)
    per["cost"], per["gain"] = cost, gain
    per = per[(per["group"] == -1) | (per["tier"] < 2)]
    per = per.sort_values(["tier", "cost", "gain", "row"], ascending=[True, True, False, True])
    out = np.zeros(release.n_rows, bool)
    out[per.drop_duplicates(["target", "side", "group"])["row"].to_numpy()] = True
    return out
