"""Disclosure control of a release: protection and the linear-programming audit.

The audit is checked against an independent attacker written here with scipy's ``linprog`` on the
whole system at once (no components, no scaling, no warm starts), and the protection against both.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from energy_lib.publish import audit, privacy, protection
from energy_lib.publish.cells import CostModel, Dimension, magnitude_table
from energy_lib.publish.release import ReleaseBuilder, Table, sum_relations

RULE = privacy.SuppressionRule(min_customers=15, max_share=0.15)
LEVEL = 0.15
COST = CostModel(weights={"ward": 1.0, "gu": 1000.0, "city": 1e6, "building_type": 1.0, "sector": 3.0, "all": 30.0,
                          "month": 1.0, "twelve_months": 50.0}, locked={"area": ["city"], "building_type": ["all"]})


def _area(gus: int, dongs_per_gu: int) -> Dimension:
    wards = pd.DataFrame({"ward_code": [f"w{g}{d}" for g in range(gus) for d in range(dongs_per_gu)],
                          "gu_code": [f"g{g}" for g in range(gus) for _ in range(dongs_per_gu)]})
    return Dimension.from_hierarchy(privacy.Hierarchy.from_levels(wards, ["ward_code", "gu_code"], column="area",
                                                                  top="city"), ["ward", "gu", "city"])


def _types() -> Dimension:
    types = pd.DataFrame({"building_type": ["apartment", "detached", "shop", "factory"],
                          "sector": ["residential", "residential", "non_residential", "non_residential"], "all": "all"})
    return Dimension.from_hierarchy(privacy.Hierarchy.from_levels(types, ["building_type", "sector", "all"]),
                                    ["building_type", "sector", "all"])


def _months(n: int) -> Dimension:
    months = [f"2024-{m:02d}" for m in range(1, n + 1)]
    edges = pd.DataFrame({"child": months, "parent": "2024"}) if n == 12 else pd.DataFrame({"child": [], "parent": []})
    return Dimension("period", edges, {**dict.fromkeys(months, "month"), "2024": "twelve_months"})


def _city(seed: int, customers: int, gus: int, dongs: int, months: int, dominant: int) -> pd.DataFrame:
    """Customer-month rows: households, a few shops, and ``dominant`` factories many times larger."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(["apartment", "detached", "shop"], customers, p=[0.55, 0.35, 0.10])
    kind[:dominant] = "factory"
    base = rng.lognormal(5.5, 0.6, customers) * np.where(kind == "factory", 400.0, np.where(kind == "shop", 8.0, 1.0))
    area = rng.choice([f"w{g}{d}" for g in range(gus) for d in range(dongs)], customers)
    period = [f"2024-{m:02d}" for m in range(1, months + 1)]
    rows = pd.DataFrame({"customer": np.repeat(np.arange(customers), months), "area": np.repeat(area, months),
                         "building_type": np.repeat(kind, months), "period": np.tile(period, customers)})
    rows["value"] = np.repeat(base, months) * rng.uniform(0.7, 1.3, len(rows))
    return rows


def _release(rows: pd.DataFrame, gus: int, dongs: int, months: int):
    builder = ReleaseBuilder()
    magnitude_table(builder, "use", rows, ["area", "building_type", "period"], value="value", customer="customer",
                    dimensions=[_area(gus, dongs), _types(), _months(months)], rule=RULE, cost=COST, period="period")
    return builder.build()


ATTACKED = 60
"""The most protected primary numbers the independent attacker bounds in one release: two ``linprog``
calls each over the whole system, so a sample of the largest releases (every one of a smaller
release); the audit, checked against it, bounds them all."""


def _independent_attack(release, hidden: np.ndarray, *, sample: int | None = ATTACKED) -> pd.DataFrame:
    """The attacker's interval of the protected primary numbers (at most ``sample`` of them, spread
    evenly over the release; all of them if None), one ``linprog`` per bound over the whole release (no shortcut shared
    with :mod:`energy_lib.publish.audit`)."""
    hidden_variable = hidden[release.variable_row]
    columns = np.flatnonzero(hidden_variable)
    a = release.relations.tocsc()
    rhs = -(a[:, ~hidden_variable] @ release.value[~hidden_variable])
    a_hidden = a[:, columns]
    keep = np.asarray(abs(a_hidden).sum(axis=1)).ravel() > 0
    a_hidden, rhs = a_hidden[keep].tocsr(), rhs[keep]
    bounds = [(lo, None) for lo in release.lower[columns]]
    targets = np.flatnonzero(release.protected[columns] & (release.row_primary[release.variable_row[columns]] != ""))
    if sample is not None and len(targets) > sample:
        targets = targets[np.unique(np.linspace(0, len(targets) - 1, sample).round().astype(int))]
    out = []
    for k in targets:
        variable = columns[k]
        c = np.zeros(len(columns))
        c[k] = 1.0
        low = linprog(c, A_eq=a_hidden, b_eq=rhs, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_hidden, b_eq=rhs, bounds=bounds, method="highs")
        assert low.status == 0, low.message
        out.append({"variable": variable, "value": release.value[variable], "lower": low.fun,
                    "upper": np.inf if high.status == 3 else -high.fun})
    # typed columns: a table with no primary cell gives no interval at all
    return pd.DataFrame(out, columns=["variable", "value", "lower", "upper"]).astype(
        {"variable": np.int64, "value": float, "lower": float, "upper": float})


def _recoverable(intervals: pd.DataFrame, slack: float = 1e-6) -> pd.DataFrame:
    value = intervals["value"]
    narrow = (intervals["upper"] < (1 + LEVEL - slack) * value) | (intervals["lower"] > (1 - LEVEL + slack) * value)
    return intervals[narrow & (value > 0)]


# derandomize: the same examples on every run (no flaky test), chosen by hypothesis's own search
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), customers=st.integers(40, 400), gus=st.integers(1, 3), dongs=st.integers(1, 4),
       months=st.sampled_from([1, 3, 12]), dominant=st.integers(0, 4))
def test_protected_release_has_no_recoverable_number(seed, customers, gus, dongs, months, dominant):
    """Random hierarchical tables with dominant customers: after protection, neither the audit nor
    an independent attacker narrows any primary number below the protection level."""
    release = _release(_city(seed, customers, gus, dongs, months, dominant), gus, dongs, months)
    assert release.residual() < 1e-12
    result = protection.protect(release, level=LEVEL)
    assert result.audit.passed
    assert (result.hidden >= (release.row_primary != "")).all()  # every primary row stays withheld
    independent = _independent_attack(release, result.hidden)
    assert _recoverable(independent).empty, _recoverable(independent).head()
    # the audit's bounds agree with the independent attacker's wherever it computed them exactly
    both = independent.merge(result.audit.intervals[["variable", "upper"]], on="variable", suffixes=("", "_audit"))
    exact = both["upper_audit"] != (1 + LEVEL) * both["value"]
    assert np.allclose(both.loc[exact, "upper"], both.loc[exact, "upper_audit"], rtol=1e-6, atol=1e-6)



@pytest.mark.parametrize("seed, customers, gus, dongs, months", [(9806, 150, 2, 3, 3), (3435, 101, 3, 3, 1),
                                                                  (331, 147, 2, 3, 3)])
def test_failures_left_by_the_local_rounds_get_complements_that_hold(monkeypatch, seed, customers, gus, dongs, months):
    """Tables where the local rounds leave a failure to the audit (found by a search over the
    property test's space): the complements chosen for it leave no primary number recoverable by
    the independent attacker. A fast, fixed counterpart of the property test (which the mutation
    run leaves out), reaching the complement search of the audit's failures."""
    searches = []
    search = protection._complements_for_failures
    monkeypatch.setattr(protection, "_complements_for_failures", lambda *a, **k: searches.append(1) or search(*a, **k))
    release = _release(_city(seed, customers, gus, dongs, months, 0), gus, dongs, months)
    result = protection.protect(release, level=LEVEL)
    assert searches, "the case no longer needs the complement search: choose another"
    assert result.audit.passed and result.audit.intervals["variable"].nunique() > 0
    assert (result.hidden >= (release.row_primary != "")).all()
    assert (result.hidden & (release.row_primary == "")).any(), "complements were withheld"
    independent = _independent_attack(release, result.hidden)
    assert len(independent) and _recoverable(independent).empty, _recoverable(independent).head()

@settings(max_examples=15, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), customers=st.integers(40, 300), dominant=st.integers(0, 3))
def test_audit_finds_what_primary_suppression_alone_leaves_open(seed, customers, dominant):
    """With only the primary cells withheld, the audit's failures are exactly the independent
    attacker's (the audit is neither blind nor paranoid)."""
    release = _release(_city(seed, customers, 2, 3, 1, dominant), 2, 3, 1)
    hidden = release.row_primary != ""
    found = set(audit.attack(release, hidden, level=LEVEL).failures["variable"])
    assert found == set(_recoverable(_independent_attack(release, hidden, sample=None))["variable"])


def _table(values: dict[str, float], primary: dict[str, str]) -> tuple[ReleaseBuilder, pd.DataFrame]:
    cells = pd.DataFrame({"area": list(values), "total": list(values.values())})
    cells["customers"] = 100
    cells["primary"] = cells["area"].map(primary).fillna("")
    cells["cost"] = cells["total"] + 1
    cells["locked"] = cells["area"].eq("city")
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area"], {"total": 0.0}, ("total",)))
    return builder, cells


def _gu_of_four_dongs():
    """A gu of 1,000 and its dongs of 50 (withheld: too few customers), 5, 400 and 545: its cells
    and release."""
    values = {"g1": 1000.0, "w1": 50.0, "w2": 5.0, "w3": 400.0, "w4": 545.0}
    builder, cells = _table(values, {"w1": "too_few_customers"})
    edges = pd.DataFrame({"child": ["w1", "w2", "w3", "w4"], "parent": "g1"})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="t", variables=["total"]))
    return cells, builder.build()


def test_single_member_total_is_no_hiding_place():
    """A gu with one dong: the gu total is the dong. Withholding the dong alone leaves it in plain
    sight; protection withholds the gu as well."""
    builder, cells = _table({"city": 1000.0, "g1": 300.0, "g2": 700.0, "w11": 300.0, "w21": 400.0, "w22": 300.0},
                            {"w11": "dominant_customer"})
    edges = pd.DataFrame({"child": ["w11", "w21", "w22", "g1", "g2"], "parent": ["g1", "g2", "g2", "city", "city"]})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="t", variables=["total"]))
    release = builder.build()
    primary_only = audit.attack(release, release.row_primary != "", level=LEVEL)
    assert primary_only.intervals.loc[0, ["lower", "upper"]].tolist() == pytest.approx([300.0, 300.0])
    result = protection.protect(release, level=LEVEL)
    hidden = dict(zip(cells["area"], result.hidden))
    assert hidden["w11"] and hidden["g1"] and not hidden["city"]
    assert result.audit.passed


def test_gu_minus_published_dongs_is_protected():
    """The gu total minus its published dongs gives a lone withheld dong: a complement is withheld
    among the dongs (cheaper than the gu), large enough to hide 15% of it."""
    cells, release = _gu_of_four_dongs()
    result = protection.protect(release, level=LEVEL)
    hidden = dict(zip(cells["area"], result.hidden))
    assert hidden["w1"] and not hidden["g1"]
    assert hidden["w3"]  # w2 (5) cannot absorb 15% of w1 (7.5); w3 is the cheapest that can
    assert not hidden["w2"] and not hidden["w4"]
    assert result.audit.passed


def test_annual_minus_eleven_months_is_protected():
    """A 12-month total with one month withheld gives the month away; protection withholds a
    second month of the same series, never the annual total (it costs more)."""
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    rows = pd.DataFrame({"customer": np.repeat(np.arange(40), 12), "area": "w1", "building_type": "apartment",
                         "period": np.tile(months, 40)})
    rows["value"] = 100.0
    rows.loc[(rows["customer"] == 0) & (rows["period"] == "2024-03"), "value"] = 5000.0  # one dominant bill
    builder = ReleaseBuilder()
    period = Dimension("period", pd.DataFrame({"child": months, "parent": "2024"}),
                       {**dict.fromkeys(months, "month"), "2024": "twelve_months"})
    cells = magnitude_table(builder, "use", rows, ["area", "building_type", "period"], value="value",
                            customer="customer", dimensions=[period], rule=RULE, cost=COST, period="period")
    release = builder.build()
    assert cells.loc[cells["period"] == "2024-03", "primary"].item() == "dominant_customer"
    assert cells.loc[cells["period"] == "2024", "primary"].item() == ""
    result = protection.protect(release, level=LEVEL)
    hidden = dict(zip(cells["period"], result.hidden))
    assert hidden["2024-03"] and not hidden["2024"]
    assert sum(hidden[m] for m in months) == 2
    assert result.audit.passed


def test_signed_savings_identity_links_observed_use():
    """savings = counterfactual − observed: with the counterfactual and the saving of a row
    published, its observed use is known, so a row is withheld whole."""
    builder, cells = _table({"city": 1000.0, "w1": 600.0, "w2": 400.0}, {"w1": "dominant_customer"})
    cells = builder._tables["t"].rows
    cells["counterfactual"] = cells["total"] * 1.1
    cells["savings"] = cells["counterfactual"] - cells["total"]
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area"], {"total": 0.0, "counterfactual": 0.0, "savings": -np.inf},
                            ("total",)))
    edges = pd.DataFrame({"child": ["w1", "w2"], "parent": "city"})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="t",
                                                variables=["total", "counterfactual", "savings"]))
    rows = np.arange(len(cells))
    builder.add_relations("identity", pd.DataFrame({
        "relation": np.tile(rows, 3), "table": "t", "row": np.tile(rows, 3),
        "variable": np.repeat(["savings", "counterfactual", "total"], len(rows)),
        "coefficient": np.repeat([1.0, -1.0, 1.0], len(rows))}))
    release = builder.build()
    assert release.residual() < 1e-12
    result = protection.protect(release, level=LEVEL)
    assert result.audit.passed
    assert dict(zip(cells["area"], result.hidden)) == {"city": False, "w1": True, "w2": True}


def test_a_negative_saving_is_protected_by_a_share_of_its_size():
    """Savings are signed: a withheld saving of −400 kWh must keep an interval reaching −460 and
    −340 (15% of its size each way). A gu saving minus its published dongs would give it away."""
    values = {"g1": 1000.0, "w1": -400.0, "w2": 600.0, "w3": 800.0}
    cells = pd.DataFrame({"area": list(values), "savings": list(values.values()), "customers": 100,
                          "primary": ["", "dominant_customer", "", ""], "locked": [True, False, False, False]})
    cells["cost"] = cells["savings"].abs() + 1
    builder = ReleaseBuilder()
    builder.add_table(Table("savings", cells, ["area"], {"savings": -np.inf}, ("savings",)))
    edges = pd.DataFrame({"child": ["w1", "w2", "w3"], "parent": "g1"})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="savings", variables=["savings"]))
    release = builder.build()
    alone = audit.attack(release, release.row_primary != "", level=LEVEL)
    assert not alone.passed and alone.intervals.loc[0, ["lower", "upper"]].tolist() == pytest.approx([-400.0, -400.0])
    result = protection.protect(release, level=LEVEL)
    assert result.audit.passed and dict(zip(cells["area"], result.hidden))["w2"]  # the cheaper sibling
    interval = result.audit.intervals.iloc[0]
    assert interval["lower"] <= -460.0 + 1e-6 and interval["upper"] >= -340.0 - 1e-6


def test_protection_reports_reasons_audit_rounds_and_times():
    """The result of a protection the local pass completes: one audit round; each withheld row
    says why; the audit is the final one, sorted by variable; the times add up."""
    cells, release = _gu_of_four_dongs()
    result = protection.protect(release, level=LEVEL)
    assert result.rounds == 1
    assert result.reason.tolist() == ["", "too_few_customers", "", "complementary", ""]
    assert result.audit.level == LEVEL and result.audit.passed
    # proven (not computed exactly) bounds are reported at the level: 50 ± 7.5
    assert result.audit.intervals[["variable", "value", "lower", "upper"]].values.ravel().tolist() == pytest.approx(
        [1, 50.0, 42.5, 57.5])
    assert result.audit.intervals.index.tolist() == [0]
    seconds = result.seconds
    assert set(seconds) == {"local", "audit", "total"}
    assert 0 <= seconds["local"] <= seconds["total"] < 60 and 0 <= seconds["audit"] <= seconds["total"]
    assert seconds["local"] + seconds["audit"] == pytest.approx(seconds["total"])


def test_a_release_without_primary_rows_is_published_whole():
    builder, _ = _table({"g1": 30.0, "w1": 10.0, "w2": 20.0}, {"g1": "", "w1": "", "w2": ""})
    release = builder.build()
    result = protection.protect(release, level=LEVEL)
    assert not result.hidden.any() and result.reason.tolist() == ["", "", ""] and result.rounds == 1
    assert result.audit.passed and result.audit.intervals.empty
    assert {"variable", "lower", "upper", "ok"} <= set(result.audit.intervals.columns)


def test_audit_rounds_are_counted_logged_and_limited(monkeypatch, caplog):
    """A table where the local pass leaves one failure (the first of the fixed cases above): the
    second audit round passes. Each round that adds complements is logged with its counts; one
    round fewer than needed raises."""
    release = _release(_city(9806, 150, 2, 3, 3, 0), 2, 3, 3)
    calls = []
    search = protection._complements_for_failures

    def recording(release, terms, hidden, failures, level, stubborn):
        out = search(release, terms, hidden, failures, level, stubborn)
        calls.append((failures["variable"].tolist(), stubborn.tolist(), int(out.sum())))
        return out

    monkeypatch.setattr(protection, "_complements_for_failures", recording)
    with caplog.at_level("INFO", logger=protection.__name__):
        result = protection.protect(release, level=LEVEL)
    assert result.rounds == 2 and len(calls) == 1 and result.audit.passed
    failed, stubborn, added = calls[0]
    assert len(failed) >= 1 and stubborn == [False] * len(failed) and added >= 1
    primary = release.row_primary != ""
    assert set(result.reason[result.hidden & ~primary]) == {"complementary"}
    assert (result.reason[primary] == release.row_primary[primary]).all() and set(result.reason[~result.hidden]) == {""}
    messages = [r.getMessage() for r in caplog.records if r.name == protection.__name__]
    assert len(messages) == 1
    match = re.fullmatch(r"audit round 1: (\d+) number\(s\) recoverable, (\d+) complement\(s\) added, (\d+\.\d) s",
                         messages[0])
    assert match and [int(match[1]), int(match[2])] == [len(failed), added]
    assert 0 <= float(match[3]) <= result.seconds["total"] + 0.05
    # the final audit holds every primary number, including those of components not attacked again
    final = audit.attack(release, result.hidden, level=LEVEL).intervals
    assert result.audit.intervals[["variable", "ok"]].values.tolist() == final[["variable", "ok"]].values.tolist()
    assert list(result.audit.intervals.columns) == list(final.columns)
    with pytest.raises(protection.ProtectionError, match=r"^secondary suppression did not converge in 1 audit rounds$"):
        protection.protect(release, level=LEVEL, max_rounds=1)
    assert protection.protect(release, level=LEVEL, max_rounds=2).hidden.tolist() == result.hidden.tolist()


def test_a_failure_no_row_can_protect_names_the_number(monkeypatch):
    """When the search finds no row to withhold (every row of the binding relations withheld
    already; the local pass and the audit's duals make this rare, so the search is replaced here),
    protection raises and names the first failing number: table, key, variable, relations."""
    builder, cells = _table({"city": 1000.0, "g1": 300.0, "g2": 700.0, "w11": 300.0, "w21": 400.0, "w22": 300.0},
                            {"w11": "dominant_customer"})
    edges = pd.DataFrame({"child": ["w11", "w21", "w22", "g1", "g2"], "parent": ["g1", "g2", "g2", "city", "city"]})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="t", variables=["total"]))
    release = builder.build()
    monkeypatch.setattr(protection, "_local_pass", lambda release, terms, hidden, level: hidden)
    monkeypatch.setattr(protection, "_complements_for_failures", lambda release, *args: np.zeros(release.n_rows, bool))
    message = ("1 primary number(s) cannot be protected at ±15%: every row of their binding relations is withheld, "
               "e.g. t {'area': 'w11'} total (bound by relations of area)")
    with pytest.raises(protection.ProtectionError) as raised:
        protection.protect(release, level=LEVEL)
    assert str(raised.value) == message


def test_a_series_withheld_in_one_month_is_withheld_in_the_next():
    """Areas a and b and their sum g over months 1 and 2, a and b with 2-month totals T. a in
    month 1 is primary: the local pass withholds b in month 1 (cheaper than g) and a in month 2
    (cheaper than a's total); a in month 2 is then alone in g = a + b, and of b (14) and g (10) b
    is chosen: its series is withheld already, which halves its cost."""
    cells = pd.DataFrame({"area": ["a", "a", "a", "b", "b", "b", "g", "g"],
                          "period": ["1", "2", "T", "1", "2", "T", "1", "2"],
                          "total": [100.0, 100.0, 200.0, 100.0, 100.0, 200.0, 200.0, 200.0],
                          "cost": [5.0, 1.0, 100.0, 10.0, 14.0, 100.0, 12.0, 10.0]})
    cells["customers"], cells["locked"] = 100, False
    cells["primary"] = np.where(cells.index == 0, "dominant_customer", "")
    builder = ReleaseBuilder()
    builder.add_table(Table("t", cells, ["area", "period"], {"total": 0.0}, ("total",)), period="period")
    builder.add_relations("area", sum_relations(cells, ["area", "period"], "area",
                                                pd.DataFrame({"child": ["a", "b"], "parent": "g"}), table="t",
                                                variables=["total"]))
    builder.add_relations("period", sum_relations(cells, ["area", "period"], "period",
                                                  pd.DataFrame({"child": ["1", "2"], "parent": "T"}), table="t",
                                                  variables=["total"]))
    release = builder.build()
    result = protection.protect(release, level=LEVEL)
    withheld = [f"{a}{p}" for a, p, h in zip(cells["area"], cells["period"], result.hidden) if h]
    assert withheld == ["a1", "a2", "b1", "b2"]
    assert result.audit.passed and result.rounds == 1


def test_a_number_that_fails_twice_gets_a_complement_in_each_binding_relation(monkeypatch):
    """A table (found by a search like the fixed cases above) where a number still fails after
    the first complements: the second search is told so (``stubborn``), for it alone."""
    release = _release(_city(39, 123, 3, 1, 1, 0), 3, 1, 1)
    calls = []
    search = protection._complements_for_failures

    def recording(release, terms, hidden, failures, level, stubborn):
        calls.append((failures["variable"].tolist(), stubborn.tolist()))
        return search(release, terms, hidden, failures, level, stubborn)

    monkeypatch.setattr(protection, "_complements_for_failures", recording)
    result = protection.protect(release, level=LEVEL)
    assert result.audit.passed and result.rounds == len(calls) + 1 >= 3
    (first, first_stubborn), (second, second_stubborn) = calls[:2]
    assert not any(first_stubborn)
    assert second_stubborn == [v in first for v in second] and any(second_stubborn)
    assert _recoverable(_independent_attack(release, result.hidden)).empty


@settings(max_examples=12, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), customers=st.integers(40, 300), dominant=st.integers(0, 3),
       share=st.floats(0.05, 0.5))
def test_withholding_more_never_narrows_an_interval_so_only_failures_are_attacked_again(seed, customers, dominant,
                                                                                         share):
    """Why the protection loop attacks only the numbers that failed: with more rows withheld, every
    number the audit proved protected stays protected, and an exact bound only moves outwards.
    ``only`` bounds the numbers asked for exactly as a whole attack does."""
    release = _release(_city(seed, customers, 2, 3, 3, dominant), 2, 3, 3)
    hidden = release.row_primary != ""
    more = hidden | (np.random.default_rng(seed).random(release.n_rows) < share)
    before = audit.attack(release, hidden, level=LEVEL).intervals.set_index("variable")
    after = audit.attack(release, more, level=LEVEL).intervals.set_index("variable")
    assert set(before.index) <= set(after.index)
    after = after.loc[before.index]
    assert (after["ok"] >= before["ok"]).all()
    # a bound proven to reach the level is reported at the level, an exact one as it is
    # (exact to the solver's tolerance)
    size = before["value"].abs()
    slack = audit.TOLERANCE * size
    assert (after["upper"] >= np.minimum(before["upper"], before["value"] + LEVEL * size) - slack).all()
    assert (after["lower"] <= np.maximum(before["lower"], before["value"] - LEVEL * size) + slack).all()
    asked = after.index[::3].to_numpy()
    again = audit.attack(release, more, level=LEVEL, only=asked).intervals.set_index("variable")
    assert again.index.tolist() == sorted(asked)
    pd.testing.assert_frame_equal(again.drop(columns="binding"), after.loc[sorted(asked)].drop(columns="binding"))


def test_protected_savings_are_proven_without_one_lp_per_number(monkeypatch):
    """A saving has no lower bound: pushing withheld savings down at once, each held at its goal,
    proves them all in one LP (unheld, that LP had no optimum and every saving took one LP of its
    own)."""
    values = {"g1": 1000.0, "w1": -400.0, "w2": 600.0, "w3": 800.0, "w4": -200.0, "w5": 200.0}
    cells = pd.DataFrame({"area": list(values), "savings": list(values.values()), "customers": 100,
                          "primary": ["", "dominant_customer", "", "", "too_few_customers", "dominant_customer"],
                          "locked": [True, False, False, False, False, False]})
    cells["cost"] = cells["savings"].abs() + 1
    builder = ReleaseBuilder()
    builder.add_table(Table("savings", cells, ["area"], {"savings": -np.inf}, ("savings",)))
    edges = pd.DataFrame({"child": ["w1", "w2", "w3", "w4", "w5"], "parent": "g1"})
    builder.add_relations("area", sum_relations(cells, ["area"], "area", edges, table="savings", variables=["savings"]))
    release = builder.build()
    exact = []
    solve_one = audit._Solver.solve_one
    monkeypatch.setattr(audit._Solver, "solve_one", lambda self, *a: exact.append(a) or solve_one(self, *a))
    result = audit.attack(release, release.row_primary != "", level=LEVEL)
    assert result.passed and len(result.intervals) == 3 and exact == []
    assert result.intervals["lower"].tolist() == pytest.approx([-460.0, -230.0, 170.0])
