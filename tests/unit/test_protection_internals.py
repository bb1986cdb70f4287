"""The steps of the protection one by one, on hand-made relations whose answers are worked out
below: the local needs (Cox's conditions relation by relation), the choice of a complement, the
cost of a row, the complements for an audit's failures, and the complements published again.

:func:`energy_lib.publish.protection.protect` is tested as a whole in
``tests/unit/test_disclosure_control.py``; these pin the arithmetic of each step, which a whole
protection often reaches only on tables too large to check by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_lib.publish import protection
from energy_lib.publish.audit import TOLERANCE
from energy_lib.publish.release import ReleaseBuilder, Table, sum_relations

LEVEL = 0.15


def _terms(rows: list[tuple[int, int, float, float, float]]) -> pd.DataFrame:
    """Terms from (relation, variable, coefficient, value, room) tuples; each variable its own row."""
    terms = pd.DataFrame(rows, columns=["relation", "variable", "coefficient", "value", "room"])
    terms.insert(2, "row", terms["variable"])
    return terms


def _release(values: dict[str, float], edges: list[tuple[str, str]], *, primary: dict[str, str] | None = None,
             cost: dict[str, float] | None = None, locked: tuple[str, ...] = (), period: dict[str, str] | None = None):
    """One table ``t`` keyed by ``area`` (and ``period`` when given: the series are the areas),
    ``total`` summed along the (child, parent) ``edges``; cost 1 + the value unless given."""
    cells = pd.DataFrame({"area": list(values), "total": list(values.values())})
    by = ["area"]
    if period is not None:
        cells["area"], cells["period"] = [period[k] for k in values], [k.split("@")[-1] for k in values]
        by = ["area", "period"]
    cells["customers"] = 100
    cells["primary"] = [(primary or {}).get(k, "") for k in values]
    cells["cost"] = [(cost or {}).get(k, v + 1.0) for k, v in values.items()]
    cells["locked"] = [k in locked for k in values]
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, by, {"total": 0.0}, ("total",)), period="period" if period else None)
    if edges:
        builder.add_relations("area", sum_relations(cells, ["area"], "area", pd.DataFrame(edges, columns=["child", "parent"]),
                                                    table="t", variables=["total"]))
    return builder.build(), list(values)


# --- _local_needs -------------------------------------------------------------------------------

def test_local_needs_worked_by_hand():
    """Eight relations, each a case of Cox's conditions (the numbers are the terms' below):

    0. 100 = x1 + x2 + x3, x1 = 10 (primary) and x2 = 1 withheld: x1 can rise only by what x2 can
       fall (1), short of 15% of 10 by 0.5 (+ the audit's tolerance); it can fall freely (x2 rises).
    1. 2·x4 = x5 + x6, x4 = 5 (primary) and x5 = 1 withheld: x4 falls by at most x5's room over
       the coefficient, 1/2, short of 0.75 by 0.25.
    2. x7 = x8, x7 withheld alone (not primary): known exactly, so both sides, with no deficit.
    3. −x9 + x10 = 0, x9 = 20 primary and alone: both sides, 3 each.
    4. s − c + o = 0 with c = 100 primary and s a signed saving: c falls while s falls without end.
    5. x14 + x15 = x16 with x15 signed: x14 = 10 (primary) rises while x15 falls without end.
    6. s1 + x18 = x19, s1 = −10 a primary saving (its own room is endless, its partner's is 1):
       s1 rises by at most 1, short of 15% of its size (1.5) by 0.5.
    7. x20 + x21 = x22, x20 = 1 primary and x21 = 0.1: x20 rises by 0.1 of the 0.15 it needs.
    8. x23 = x24 + x25, x23 = 10 primary and x24 = 1: as 1. with a coefficient of 1, 0.5 short.
    9. x26 = x27 + x28, x26 = 10 primary and x27 signed: x26 falls while x27 falls without end.
    10. −x29 − x30 + x31 = 0, x29 = 10 primary and x30 signed: x29 rises while x30 falls.
    11. 2·x32 + x33 = x34, x32 = 5 primary and x33 = 1: x32 rises by 1/2, 0.25 short of 0.75.
    12. x35 + x36 = x37 + x38, x35 primary, x36 and x37 withheld: free both ways, whatever the rooms.
    13. x39 = x40 + x41, x39 = 10 primary, x40 exactly its want: x39 falls by just enough.
    14. s2 + x43 = x44, s2 = −10 a primary saving, x43 exactly its want: s2 rises by just enough.
    """
    inf = np.inf
    just = LEVEL * 10.0 * (1 + TOLERANCE)  # 15% of 10 with the audit's tolerance
    terms = _terms([(0, 0, 1.0, 100.0, 100.0), (0, 1, -1.0, 10.0, 10.0), (0, 2, -1.0, 1.0, 1.0), (0, 3, -1.0, 89.0, 89.0),
                    (1, 4, 2.0, 5.0, 5.0), (1, 5, -1.0, 1.0, 1.0), (1, 6, -1.0, 9.0, 9.0),
                    (2, 7, 1.0, 3.0, 3.0), (2, 8, -1.0, 3.0, 3.0),
                    (3, 9, -1.0, 20.0, 20.0), (3, 10, 1.0, 20.0, 20.0),
                    (4, 11, 1.0, -40.0, inf), (4, 12, -1.0, 100.0, 100.0), (4, 13, 1.0, 140.0, 140.0),
                    (5, 14, 1.0, 10.0, 10.0), (5, 15, 1.0, 5.0, inf), (5, 16, -1.0, 15.0, 15.0),
                    (6, 17, 1.0, -10.0, inf), (6, 18, 1.0, 1.0, 1.0), (6, 19, -1.0, -9.0, inf),
                    (7, 20, 1.0, 1.0, 1.0), (7, 21, 1.0, 0.1, 0.1), (7, 22, -1.0, 1.1, 1.1),
                    (8, 23, 1.0, 10.0, 10.0), (8, 24, -1.0, 1.0, 1.0), (8, 25, -1.0, 9.0, 9.0),
                    (9, 26, 1.0, 10.0, 10.0), (9, 27, -1.0, 4.0, inf), (9, 28, -1.0, 6.0, 6.0),
                    (10, 29, -1.0, 10.0, 10.0), (10, 30, -1.0, 4.0, inf), (10, 31, 1.0, 14.0, 14.0),
                    (11, 32, 2.0, 5.0, 5.0), (11, 33, 1.0, 1.0, 1.0), (11, 34, -1.0, 11.0, 11.0),
                    (12, 35, 1.0, 10.0, 10.0), (12, 36, 1.0, 0.1, 0.1), (12, 37, -1.0, 0.1, 0.1), (12, 38, -1.0, 10.0, 10.0),
                    (13, 39, 1.0, 10.0, 10.0), (13, 40, -1.0, just, just), (13, 41, -1.0, 10.0 - just, 10.0 - just),
                    (14, 42, 1.0, -10.0, inf), (14, 43, 1.0, just, just), (14, 44, -1.0, just - 10.0, inf)])
    hidden_variables = {1, 2, 4, 5, 7, 9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24, 26, 27, 29, 30, 32, 33, 35, 36, 37,
                        39, 40, 42, 43}
    targets = {1, 4, 9, 12, 14, 17, 20, 23, 26, 29, 32, 35, 39, 42}
    is_hidden = terms["variable"].isin(hidden_variables).to_numpy()
    target = terms["variable"].isin(targets).to_numpy()
    need = protection._local_needs(terms, is_hidden, target, LEVEL)
    margin = 1 + TOLERANCE
    expected = pd.DataFrame([(0, 1, -1.0, "up", 1.5 * margin - 1), (2, 7, 1.0, "up", 0.0), (3, 9, -1.0, "up", 3 * margin),
                             (6, 17, 1.0, "up", 1.5 * margin - 1), (7, 20, 1.0, "up", 0.15 * margin - 0.1),
                             (11, 32, 1.0, "up", 0.75 * margin - 0.5),
                             (1, 4, 1.0, "down", 0.75 * margin - 0.5), (2, 7, 1.0, "down", 0.0),
                             (3, 9, -1.0, "down", 3 * margin), (8, 23, 1.0, "down", 1.5 * margin - 1)],
                            columns=["relation", "variable", "sign", "side", "deficit"])
    pd.testing.assert_frame_equal(need, expected, check_dtype=False, rtol=1e-12, atol=1e-15)


def test_local_needs_of_a_protected_relation_are_none():
    """A primary number with room on both sides (a large withheld partner) needs nothing; a zero
    primary number needs nothing (15% of nothing is nothing)."""
    terms = _terms([(0, 0, 1.0, 100.0, 100.0), (0, 1, -1.0, 10.0, 10.0), (0, 2, -1.0, 40.0, 40.0), (0, 3, -1.0, 50.0, 50.0),
                    (1, 4, 1.0, 5.0, 5.0), (1, 5, -1.0, 0.0, 0.0), (1, 6, -1.0, 0.0, 0.0), (1, 7, -1.0, 5.0, 5.0)])
    is_hidden = terms["variable"].isin([1, 2, 5, 6]).to_numpy()
    target = terms["variable"].isin([1, 5]).to_numpy()
    need = protection._local_needs(terms, is_hidden, target, LEVEL)
    assert need.empty and list(need.columns) == ["relation", "variable", "sign", "side", "deficit"]


# --- _choose ------------------------------------------------------------------------------------

def test_choose_takes_the_cheapest_row_that_meets_every_side():
    """Relation 0: x1 (sign −1) must rise by 0.5. Published: the total (opposite sign, moves
    freely, but dear), x2 (room 0.4: too little, cheapest), x3 and x4 (cost 3 each; x4 has more
    room and wins the tie). Relation 1: x9 (sign +1) needs 3 on both sides. x10 (sign −1, room 2)
    meets only the upper side, x11 (sign +1, room 10) both, x12 is locked: x11.
    Relation 2: x20 needs 3 both ways; the locked x22 would meet both, x21 (too small to fall
    by 3) only the lower side: a locked row comes last all the same."""
    terms = _terms([(0, 0, 1.0, 100.0, 100.0), (0, 1, -1.0, 10.0, 10.0), (0, 2, -1.0, 0.4, 0.4), (0, 3, -1.0, 5.0, 5.0),
                    (0, 4, -1.0, 7.0, 7.0),
                    (1, 9, 1.0, 20.0, 20.0), (1, 10, -1.0, 2.0, 2.0), (1, 11, 1.0, 10.0, 10.0), (1, 12, 1.0, 100.0, 100.0),
                    (2, 20, 1.0, 20.0, 20.0), (2, 21, 1.0, 1.0, 1.0), (2, 22, -1.0, 100.0, 100.0)])
    is_hidden = terms["variable"].isin([1, 9, 20]).to_numpy()
    need = pd.DataFrame([(0, 1, -1.0, "up", 0.5), (1, 9, 1.0, "up", 3.0), (1, 9, 1.0, "down", 3.0),
                         (2, 20, 1.0, "up", 3.0), (2, 20, 1.0, "down", 3.0)],
                        columns=["relation", "variable", "sign", "side", "deficit"])
    cost = np.full(23, 50.0)
    cost[[0, 2, 3, 4]] = [1000.0, 1.0, 3.0, 3.0]
    cost[[10, 11, 12]] = [1.0, 5.0, protection._LOCKED]
    cost[[21, 22]] = [2.0, protection._LOCKED]
    chosen = protection._choose(terms, is_hidden, need, cost, ["relation", "variable"])
    assert chosen.tolist() == [4, 11, 21]
    # without the lock x22 would be chosen; without x11's room to fall, x10 (cheaper, one side)
    cost[22] = 1.0
    assert protection._choose(terms, is_hidden, need, cost, ["relation", "variable"]).tolist() == [4, 11, 22]
    terms.loc[terms["variable"] == 11, "room"] = 1.0
    assert protection._choose(terms, is_hidden, need, cost, ["relation", "variable"]).tolist() == [4, 10, 22]


def test_choose_meets_the_lower_side_with_a_number_that_can_fall():
    """x1 (sign +1) must fall by 2: a published number of the same sign rises with it (free,
    however small); one of the opposite sign must fall with it, by its room. The cheap x2
    (opposite, room 1) falls short; x3 (opposite, room exactly 2) is enough, and chosen over the
    dearer same-sign x4 until x4 is the cheaper. x6 and x7, same sign and cost: the first row."""
    terms = _terms([(0, 1, 1.0, 10.0, 10.0), (0, 2, -1.0, 1.0, 1.0), (0, 3, -1.0, 2.0, 2.0), (0, 4, 1.0, 1.0, 1.0),
                    (0, 5, -1.0, 7.0, 7.0), (0, 6, 1.0, 1.0, 1.0), (0, 7, 1.0, 1.0, 1.0)])
    is_hidden = terms["variable"].isin([1]).to_numpy()
    need = pd.DataFrame([(0, 1, 1.0, "down", 2.0)], columns=["relation", "variable", "sign", "side", "deficit"])
    cost = np.array([0.0, 0.0, 1.0, 2.0, 4.0, 9.0, 20.0, 20.0])
    assert protection._choose(terms, is_hidden, need, cost, ["relation", "variable"]).tolist() == [3]
    cost[4] = 1.5  # the same-sign number is free on this side: cheapest now
    assert protection._choose(terms, is_hidden, need, cost, ["relation", "variable"]).tolist() == [4]
    cost[2:6] = 50.0
    assert protection._choose(terms, is_hidden, need, cost, ["relation", "variable"]).tolist() == [6]


def test_choose_without_a_published_row_chooses_nothing():
    terms = _terms([(0, 0, 1.0, 10.0, 10.0), (0, 1, -1.0, 10.0, 10.0)])
    need = pd.DataFrame([(0, 1, -1.0, "up", 1.5)], columns=["relation", "variable", "sign", "side", "deficit"])
    chosen = protection._choose(terms, np.array([True, True]), need, np.ones(2), ["relation", "variable"])
    assert chosen.size == 0
    assert not np.zeros(2, bool)[chosen].any()  # usable as row positions


# --- _effective_cost ----------------------------------------------------------------------------

def test_effective_cost_halves_withheld_series_and_puts_locked_rows_last():
    """Two areas over two months (series a and b) and a locked c: a's cost halves in both months
    once one is withheld; the locked row costs its own plus the lock."""
    values = {"a@1": 10.0, "a@2": 12.0, "b@1": 20.0, "b@2": 22.0, "c@1": 5.0}
    period = {k: k.split("@")[0] for k in values}
    release, _ = _release(values, [], cost={"a@1": 4.0, "a@2": 6.0, "b@1": 8.0, "b@2": 10.0, "c@1": 3.0},
                          locked=("c@1",), period=period)
    assert release.row_series.tolist() == [0, 0, 1, 1, 2]
    hidden = np.array([False, True, False, False, False])
    cost = protection._effective_cost(release, hidden)
    assert cost.tolist() == [2.0, 3.0, 8.0, 10.0, 3.0 + protection._LOCKED]
    assert protection._effective_cost(release, np.zeros(5, bool)).tolist() == [4.0, 6.0, 8.0, 10.0,
                                                                                 3.0 + protection._LOCKED]
    assert protection._effective_cost(release, np.ones(5, bool)).tolist() == [2.0, 3.0, 4.0, 5.0,
                                                                               1.5 + protection._LOCKED]


# --- _terms -------------------------------------------------------------------------------------

def test_terms_lists_each_relation_term_with_its_room():
    """One row per nonzero term; the room of a use is its value (it cannot fall below 0), of a
    signed saving endless."""
    cells = pd.DataFrame({"area": ["g", "w1", "w2"], "total": [10.0, 4.0, 6.0], "savings": [-1.0, -3.0, 2.0],
                          "customers": 100, "primary": "", "cost": 1.0, "locked": False})
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area"], {"total": 0.0, "savings": -np.inf}, ("total",)))
    edges = pd.DataFrame({"child": ["w1", "w2"], "parent": "g"})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="t", variables=["total", "savings"]))
    terms = protection._terms(builder.build())
    expected = pd.DataFrame({"relation": [0, 0, 0, 1, 1, 1], "variable": [0, 1, 2, 3, 4, 5], "row": [0, 1, 2, 0, 1, 2],
                             "coefficient": [1.0, -1.0, -1.0, 1.0, -1.0, -1.0],
                             "value": [10.0, 4.0, 6.0, -1.0, -3.0, 2.0],
                             "room": [10.0, 4.0, 6.0, np.inf, np.inf, np.inf]})
    pd.testing.assert_frame_equal(terms, expected, check_dtype=False)


# --- _publish_determined ------------------------------------------------------------------------

_HIERARCHY = {"city": 100.0, "g1": 40.0, "g2": 60.0, "w1": 15.0, "w2": 25.0, "w3": 20.0, "w4": 40.0}
_HIERARCHY_EDGES = [("g1", "city"), ("g2", "city"), ("w1", "g1"), ("w2", "g1"), ("w3", "g2"), ("w4", "g2")]


def test_complements_a_reader_can_work_out_are_published_again_in_turn():
    """w1 (primary) and w2 protect each other in g1 = w1 + w2. g2 is the only withheld number of
    city = g1 + g2: city − g1 gives it, so it is published again; then w3 is alone in
    g2 = w3 + w4 and is published too. A primary number stays withheld even when alone."""
    release, names = _release(_HIERARCHY, _HIERARCHY_EDGES, primary={"w1": "dominant_customer", "w4": "too_few_customers"})
    primary = release.row_primary != ""
    hidden = np.isin(names, ["w1", "w2", "g2", "w3"])
    published_again = protection._publish_determined(release, hidden, primary)
    assert dict(zip(names, published_again)) == {"city": False, "g1": False, "g2": False, "w1": True, "w2": True,
                                                 "w3": False, "w4": False}
    assert hidden.sum() == 4  # the caller's array is left alone
    alone = np.isin(names, ["w4"])  # a primary alone in g2: known, but never published by this step
    assert protection._publish_determined(release, alone, primary).tolist() == alone.tolist()
    both = np.isin(names, ["w3", "w4"])  # w3 and w4 hide each other: nothing is given away
    assert protection._publish_determined(release, both, primary).tolist() == both.tolist()


def test_a_row_is_published_again_only_when_all_its_numbers_are_known():
    """Rows with two numbers, total and saving, summed along different edges: g = w1 + w2 for
    totals, g = w1 + w3 for savings. With w1 and w3 withheld, w1's total is alone (known) but
    its saving is not: the row stays withheld, publishing it would publish the saving too. With
    w1 withheld alone both its numbers are known, and it is published again."""
    cells = pd.DataFrame({"area": ["g", "w1", "w2", "w3"], "total": [10.0, 4.0, 6.0, 1.0],
                          "savings": [-1.0, -3.0, 5.0, 2.0], "customers": 100, "primary": "", "cost": 1.0,
                          "locked": False})
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area"], {"total": 0.0, "savings": -np.inf}, ("total",)))
    builder.add_relations("area", sum_relations(cells, ["area"], "area", pd.DataFrame({"child": ["w1", "w2"], "parent": "g"}),
                                                table="t", variables=["total"]))
    builder.add_relations("area", sum_relations(cells, ["area"], "area", pd.DataFrame({"child": ["w1", "w3"], "parent": "g"}),
                                                table="t", variables=["savings"]))
    release = builder.build()
    primary = np.zeros(4, bool)
    hidden = np.array([False, True, False, True])
    assert protection._publish_determined(release, hidden, primary).tolist() == hidden.tolist()
    assert not protection._publish_determined(release, np.array([False, True, False, False]), primary).any()


# --- _describe ----------------------------------------------------------------------------------

def _two_tables(values: dict[str, float], edges: dict[str, list[tuple[str, str]]], primary: dict[str, str]):
    """A one-row table ``s`` before table ``t`` (so ``t``'s rows do not start at 0), relations
    of each kind in ``edges`` over ``t``."""
    builder = ReleaseBuilder()
    builder.add_table(Table("s", pd.DataFrame({"zone": ["z"], "total": [1.0], "customers": 100, "primary": "",
                                               "cost": 1.0, "locked": False}), ["zone"], {"total": 0.0}, ("total",)))
    cells = pd.DataFrame({"area": list(values), "total": list(values.values()), "customers": 100,
                          "primary": [primary.get(k, "") for k in values], "locked": False})
    cells["cost"] = cells["total"] + 1
    builder.add_table(Table("t", cells, ["area"], {"total": 0.0}, ("total",)))
    for kind, pairs in edges.items():
        builder.add_relations(kind, sum_relations(cells, ["area"], "area", pd.DataFrame(pairs, columns=["child", "parent"]),
                                                  table="t", variables=["total"]))
    return builder.build()


def test_describe_names_the_first_failure_and_its_relations():
    release = _two_tables({"g": 20.0, "h": 20.0, "w1": 10.0, "w2": 10.0, "w3": 10.0},
                          {"area": [("w1", "g"), ("w2", "g")], "building_type": [("w1", "h"), ("w3", "h")]},
                          {"w1": "dominant_customer", "w2": "too_few_customers"})
    failures = pd.DataFrame({"variable": [3, 4], "row": [3, 4], "table": "t", "name": "total", "value": 10.0,
                             "lower": 10.0, "upper": 10.0, "ok": False,
                             "binding": [((1, "up", -1.0), (0, "down", 1.0), (1, "down", 1.0)), ((0, "up", -1.0),)]})
    assert release.relation_kind.tolist() == ["area", "building_type"]
    assert protection._describe(release, failures) == "t {'area': 'w1'} total (bound by relations of area, building_type)"
    failures.at[0, "binding"] = ()
    assert protection._describe(release, failures) == "t {'area': 'w1'} total (bound by relations of none)"


# --- _complements_for_failures ------------------------------------------------------------------

_TWO_SUMS = {"g1": 457.0, "h1": 354.0, "w1": 50.0, "w2": 5.0, "w3": 400.0, "w4": 3.0, "w5": 300.0, "w6": 2.0, "w7": 1.0}
_TWO_SUMS_EDGES = [("w1", "g1"), ("w2", "g1"), ("w3", "g1"), ("w6", "g1"), ("w1", "h1"), ("w4", "h1"), ("w5", "h1"),
                   ("w7", "h1")]


def _two_sums(**kwargs):
    """g1 = w1 + w2 + w3 + w6 (relation 0) and h1 = w1 + w4 + w5 + w7 (relation 1), w1 (50)
    primary; with w1, w2 and w4 withheld, w1 ≤ min(457 − 402, 354 − 301) = 53 < 57.5."""
    release, names = _release(_TWO_SUMS, _TWO_SUMS_EDGES, primary={"w1": "too_few_customers"}, **kwargs)
    return release, names, np.isin(names, ["w1", "w2", "w4"])


def _failure(upper: float, lower: float, binding: tuple) -> pd.DataFrame:
    return pd.DataFrame({"variable": [2], "row": [2], "table": "t", "name": "total", "value": [50.0], "lower": [lower],
                         "upper": [upper], "ok": False, "binding": [binding]})


def _chosen(release, names, hidden, failures, stubborn=(False,)) -> list[str]:
    out = protection._complements_for_failures(release, protection._terms(release), hidden, failures, LEVEL,
                                               np.array(stubborn, bool))
    return [n for n, c in zip(names, out) if c]


def test_a_failing_upper_bound_gets_the_cheapest_row_that_can_lift_it():
    """The audit's failure: w1 ≤ 53, 4.5 short of 57.5, bound by h1's relation (dual −1). Of h1's
    published rows, h1 itself rises (dear), w5 can fall by 300 and w7 by only 1 (cheapest, not
    enough): w5."""
    release, names, hidden = _two_sums()
    failures = protection.attack(release, hidden, level=LEVEL).failures
    assert failures[["variable", "upper"]].values.tolist() == [[2, 53.0]]
    assert failures["binding"].tolist() == [((1, "up", -1.0),)]
    assert _chosen(release, names, hidden, failures) == ["w5"]
    assert _chosen(release, names, hidden, _failure(56.6, 42.5, ((1, "up", -1.0),))) == ["w7"]  # 0.9 short: w7 can
    # exactly 1 short: w7's 1 leaves nothing for the solver's tolerance
    assert _chosen(release, names, hidden, _failure(56.5, 42.5, ((1, "up", -1.0),))) == ["w5"]
    # at 0.1 per unit w5's fall moves the bound by 30, enough; at 0.01 by 3: only h1 (rising) is
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ((1, "up", -0.1),))) == ["w5"]
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ((1, "up", -0.01),))) == ["h1"]


def test_a_stubborn_failure_gets_a_complement_in_every_relation_that_binds_it():
    """A number that failed before gets, besides the best row over all its binding relations (w5),
    the best unlocked row of each: w3 in g1's relation. A relation whose dual is nothing (1e-14)
    moves no bound: no row of it is chosen."""
    release, names, hidden = _two_sums()
    binding = ((0, "up", -1.0), (1, "up", -1.0))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, binding)) == ["w5"]
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, binding), stubborn=(True,)) == ["w3", "w5"]
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ((0, "up", -1e-14), (1, "up", -1.0))),
                   stubborn=(True,)) == ["w5"]
    # locked rows are for the best over all only
    locked, names, hidden = _two_sums(locked=("g1", "w3", "w6"))
    assert _chosen(locked, names, hidden, _failure(53.0, 42.5, binding), stubborn=(True,)) == ["w5"]


def test_of_locked_rows_one_that_protects_is_chosen():
    """When every published row of the binding relation is locked (a gu or city total, say), the
    complement is still the one that lifts the bound enough (w5, by 300 of the 4.5 needed), not
    the cheapest (w7, by 1): a locked row withheld in vain costs another locked row next round."""
    release, names, hidden = _two_sums(locked=("h1", "w5", "w7"))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ((1, "up", -1.0),))) == ["w5"]
    assert _chosen(release, names, hidden, _failure(57.0, 42.5, ((1, "up", -1.0),))) == ["w7"]  # 0.5: w7 can


def test_a_failing_lower_bound_gets_a_row_that_can_push_it_down():
    """w1 ≥ 48, 5.5 above 42.5, bound by h1's relation: rows that rise let it fall (w5, w7,
    cheapest w7), h1 must fall (room 354): with w5 and w7 withheld already, h1."""
    release, names, hidden = _two_sums()
    assert _chosen(release, names, hidden, _failure(57.5, 48.0, ((1, "down", -1.0),))) == ["w7"]
    hidden = hidden | np.isin(names, ["w5", "w7"])
    assert _chosen(release, names, hidden, _failure(57.5, 48.0, ((1, "down", -1.0),))) == ["h1"]
    # at 0.01 per unit h1 moves the bound by 3.54 of the 5.5 needed: not enough, but the only row
    assert _chosen(release, names, hidden, _failure(57.5, 48.0, ((1, "down", -0.01),))) == ["h1"]
    # a saving of −50 (its interval must reach −57.5 and −42.5): the same relation, the same rows
    failures = _failure(-47.0, -57.5, ((1, "up", -1.0),)).assign(value=-50.0)
    assert _chosen(release, names, np.isin(names, ["w1", "w2", "w4"]), failures) == ["w5"]


def test_a_lower_bound_is_pushed_down_by_the_cheapest_total_that_falls_far_enough():
    """With every part withheld, w1 ≥ 48 (5.5 above its goal 42.5) can be pushed down only by the
    totals falling: g1 (458) by 457 at a dual of −1, h1 (355) by 354 × |its dual|. h1, cheaper,
    when that is enough: a dual of −10/354 moves the bound by 10, −0.01 by 3.54 (then g1); for a
    bound 0.5 too high (w1 ≥ 43) a move of 0.7 is enough."""
    release, names, _ = _two_sums()
    parts = np.isin(names, ["w1", "w2", "w3", "w4", "w5", "w6", "w7"])

    def chosen(lower, dual):
        return _chosen(release, names, parts, _failure(57.5, lower, ((0, "down", -1.0), (1, "down", dual))))

    assert chosen(48.0, -10 / 354) == ["h1"]
    assert chosen(48.0, -0.01) == ["g1"]
    assert chosen(43.0, -0.7 / 354) == ["h1"]
    assert chosen(43.0, -0.4 / 354) == ["g1"]


def test_a_stubborn_failure_counts_each_relation_once():
    """A stubborn failure's binding relation is listed for the best over all and for its own
    group; w7 still moves the bound by 1 (not 2) of the 1.5 lacking, so w5 is chosen as for a
    failure seen the first time."""
    release, names, hidden = _two_sums()
    failure = _failure(56.0, 42.5, ((1, "up", -1.0),))
    assert _chosen(release, names, hidden, failure) == ["w5"]
    assert _chosen(release, names, hidden, failure, stubborn=(True,)) == ["w5"]


def test_a_stubborn_failure_may_get_a_locked_row_as_its_best_over_all():
    """Every published row locked: the best over all is still chosen (w5, enough and cheapest of
    the locked), the relations' own groups take no locked row."""
    release, names, hidden = _two_sums(locked=("g1", "w3", "w6", "h1", "w5", "w7"))
    binding = ((0, "up", -1.0), (1, "up", -1.0))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, binding), stubborn=(True,)) == ["w5"]


def test_an_unlocked_row_that_helps_comes_before_a_locked_one_that_would_be_enough():
    """w5 is locked (its own cost 0, so exactly the lock's), h1 too: w7, which lifts the bound by
    only 1 of the 4.5, is chosen (the next round adds another); the locked rows are left."""
    release, names, hidden = _two_sums(locked=("h1", "w5"), cost={"w5": 0.0})
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ((1, "up", -1.0),))) == ["w7"]


def test_a_stubborn_failure_takes_a_row_of_each_relation_that_helps_if_not_enough():
    """g1 and w3 locked: of g1's relation only w6 is left, which lifts the bound by 2 of 4.5; a
    stubborn failure gets it all the same, beside w5."""
    release, names, hidden = _two_sums(locked=("g1", "w3"))
    binding = ((0, "up", -1.0), (1, "up", -1.0))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, binding), stubborn=(True,)) == ["w5", "w6"]


def test_ties_go_to_the_row_that_moves_the_bound_most_then_the_first_row():
    """w5 and w7 cost the same and both lift the bound by the 0.5 it lacks: w5 moves it by 300,
    w7 by 1; w5. g1 and h1 cost the same and both rise: g1, the first row."""
    release, names, hidden = _two_sums(cost={"w5": 10.0, "w7": 10.0})
    assert _chosen(release, names, hidden, _failure(57.0, 42.5, ((1, "up", -1.0),))) == ["w5"]
    release, names, hidden = _two_sums(cost={"g1": 1.0, "h1": 1.0})
    binding = ((0, "up", -1.0), (1, "up", -1.0))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, binding)) == ["g1"]


def test_enough_means_the_deficit_with_the_audit_tolerance():
    """w1's upper bound is 1 short; w7 (cheapest) can fall by exactly 1 × (1 + tolerance): enough."""
    values = {**_TWO_SUMS, "w7": 1.0 * (1 + TOLERANCE), "h1": 354.0 + TOLERANCE}
    release, names = _release(values, _TWO_SUMS_EDGES, primary={"w1": "too_few_customers"})
    hidden = np.isin(names, ["w1", "w2", "w4"])
    assert _chosen(release, names, hidden, _failure(56.5, 42.5, ((1, "up", -1.0),))) == ["w7"]


def test_a_relation_whose_dual_is_noise_gives_no_complement():
    """Duals below 10⁻¹² of the failing number's size (at least 1) are the solver's noise: a
    relation with only such a dual gets no row of its own, even for a stubborn failure. For a
    number of 0.5 the floor is 10⁻¹², so a dual of 1.5 × 10⁻¹² counts (g1, which rises)."""
    release, names, hidden = _two_sums()
    noise = ((0, "up", -1e-12), (1, "up", -1.0))
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, noise), stubborn=(True,)) == ["w5"]
    small = _failure(0.55, 0.0, ((0, "up", -1.5e-12), (1, "up", -1.0))).assign(value=0.5)
    assert _chosen(release, names, hidden, small, stubborn=(True,)) == ["g1", "w7"]


def test_a_withheld_series_makes_its_row_in_another_period_the_cheaper_complement():
    """Areas over two periods, g = w1 + w2 + w3 in each. w1 in period 1 is 4.5 short above; w2
    (cost 10) and w3 (cost 14) could each lift it, but w3 is withheld in period 2: its cost halves
    to 7, and w3 in period 1 is chosen."""
    values = {"g@1": 600.0, "w1@1": 50.0, "w2@1": 250.0, "w3@1": 300.0,
              "g@2": 600.0, "w1@2": 50.0, "w2@2": 250.0, "w3@2": 300.0}
    cells = pd.DataFrame({"area": [k.split("@")[0] for k in values], "period": [k.split("@")[1] for k in values],
                          "total": list(values.values()), "customers": 100, "locked": False,
                          "primary": ["", "dominant_customer", "", "", "", "", "", ""],
                          "cost": [1000.0, 1.0, 10.0, 14.0, 1000.0, 1.0, 10.0, 14.0]})
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area", "period"], {"total": 0.0}, ("total",)), period="period")
    builder.add_relations("area", sum_relations(cells, ["area", "period"], "area",
                                                pd.DataFrame({"child": ["w1", "w2", "w3"], "parent": "g"}),
                                                table="t", variables=["total"]))
    release = builder.build()
    names = list(values)
    hidden = np.isin(names, ["w1@1", "w1@2", "w3@2"])
    relation = int(np.flatnonzero(release.relations.toarray()[:, 0])[0])  # g in period 1
    out = protection._complements_for_failures(release, protection._terms(release), hidden,
                                               _failure(53.0, 42.5, ((relation, "up", -1.0),)).assign(variable=1, row=1),
                                               LEVEL, np.array([False]))
    assert [n for n, c in zip(names, out) if c] == ["w3@1"]


def test_no_binding_relation_or_no_published_row_gives_no_complement():
    release, names, hidden = _two_sums()
    assert _chosen(release, names, hidden, _failure(53.0, 42.5, ())) == []
    everything = np.ones(len(names), bool)
    assert _chosen(release, names, everything, _failure(53.0, 42.5, ((1, "up", -1.0),))) == []
