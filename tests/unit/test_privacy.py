"""The 15/15 rule, cell statistics and masking (secondary suppression: test_disclosure_control.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from energy_lib.core import configuration
from energy_lib.publish import privacy

RULE = privacy.SuppressionRule(min_customers=15, max_share=0.15)

# Gwangju-like toy areas: dongs a1..a3 in gu A, b1..b2 in gu B, both in the city.
AREA = privacy.Hierarchy(column="area", parent={"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B",
                                                "A": "city", "B": "city"})


def _cells(records, by=("area",)) -> pd.DataFrame:
    """Cells from (key..., customers, total, largest_share) tuples."""
    return pd.DataFrame(records, columns=[*by, *privacy.STATISTICS])


# --- The 15/15 rule -------------------------------------------------------------------------------

def test_the_configured_rule_is_15_15_with_its_source():
    rule = privacy.SuppressionRule.configured()
    assert (rule.min_customers, rule.max_share) == (15, 0.15)
    assert "14-05-016" in rule.source and "14-05-016" in configuration.load("privacy")["rule"]["source"]


def test_primary_rule_at_the_boundaries():
    cells = _cells([("14 customers", 14, 100.0, 0.01), ("15 customers", 15, 100.0, 0.01),
                    ("share 15%", 40, 100.0, 0.15), ("share above 15%", 40, 100.0, np.nextafter(0.15, 1)),
                    ("both", 3, 100.0, 0.9)])
    reasons = privacy.primary_suppression(cells, RULE)
    assert reasons.tolist() == ["too_few_customers", "", "", "dominant_customer", "too_few_customers"]


def test_share_of_exactly_15_percent_from_customer_rows_passes_and_just_above_fails():
    def one_cell(largest):  # 14 other customers with 85 kWh, so that the total is exact
        rows = pd.DataFrame({"area": "a1", "meter": [f"m{i}" for i in range(15)], "kwh": [largest, *[6.0] * 13, 7.0]})
        return privacy.cell_statistics(rows, ["area"], value="kwh", customer="meter")

    assert privacy.primary_suppression(one_cell(15.0), RULE).tolist() == [""]
    assert privacy.primary_suppression(one_cell(15.01), RULE).tolist() == ["dominant_customer"]


def test_the_configured_numbers_are_the_ones_applied(monkeypatch):
    load = configuration.load
    privacy_toml = {"rule": {"min_customers": 5, "max_share": 0.5, "source": "test"}}
    monkeypatch.setattr(configuration, "load", lambda name: privacy_toml if name == "privacy" else load(name))
    cells = _cells([("a1", 5, 100.0, 0.5), ("a2", 4, 100.0, 0.1), ("a3", 20, 100.0, 0.51)])
    assert privacy.primary_suppression(cells).tolist() == ["", "too_few_customers", "dominant_customer"]


def test_an_impossible_rule_is_an_error():
    with pytest.raises(ValueError, match="max_share"):
        privacy.SuppressionRule(min_customers=15, max_share=15)


# --- Cell statistics ------------------------------------------------------------------------------

def test_a_customer_counts_once_per_cell_with_the_sum_of_its_rows():
    rows = pd.DataFrame({"area": ["a1"] * 4 + ["a2"], "meter": ["m1", "m1", "m2", "m3", "m1"],
                         "kwh": [30.0, 30.0, 20.0, 20.0, 5.0]})
    cells = privacy.cell_statistics(rows, ["area"], value="kwh", customer="meter")
    assert cells["area"].tolist() == ["a1", "a2"]
    assert cells["customers"].tolist() == [3, 1]
    np.testing.assert_allclose(cells["total"], [100.0, 5.0])
    np.testing.assert_allclose(cells["largest_share"], [0.6, 1.0])


def test_margins_of_a_two_way_table_are_every_combination_of_levels():
    building = privacy.Hierarchy(column="type", parent={"apartment": "all", "shop": "all"})
    rows = pd.DataFrame({"area": ["a1", "a2", "b1", "b1"], "type": ["apartment", "shop", "apartment", "shop"],
                         "meter": ["m1", "m2", "m3", "m4"], "kwh": [10.0, 20.0, 30.0, 40.0]})
    cells = privacy.cell_statistics(rows, ["area", "type"], value="kwh", customer="meter", margins=[AREA, building])
    totals = cells.set_index(["area", "type"])["total"]
    assert len(cells) == 4 + 4 + 2 + 3 + 2 + 1  # leaves, gu × type, city × type, dong × all, gu × all, city × all
    assert totals[("A", "apartment")] == 10 and totals[("A", "all")] == 30 and totals[("city", "shop")] == 60
    assert totals[("city", "all")] == 100
    assert cells.set_index(["area", "type"]).loc[("city", "all"), "largest_share"] == pytest.approx(0.4)


def test_an_upper_level_sums_each_customer_before_its_share():
    year = privacy.Hierarchy(column="month", parent={"2024-01": "2024", "2024-02": "2024"})
    rows = pd.DataFrame({"month": ["2024-01", "2024-02", "2024-01", "2024-02"], "meter": ["m1", "m1", "m2", "m3"],
                         "kwh": [30.0, 30.0, 50.0, 10.0]})
    cells = privacy.cell_statistics(rows, ["month"], value="kwh", customer="meter", margins=[year]).set_index("month")
    assert cells.loc["2024", "customers"] == 3
    assert cells.loc["2024", "largest_share"] == pytest.approx(60 / 120)  # m1's two months together


def test_cell_statistics_leaves_out_missing_values_and_refuses_negative_ones_and_ragged_codes():
    rows = pd.DataFrame({"area": ["a1", "a1"], "meter": ["m1", "m2"], "kwh": [10.0, np.nan]})
    assert privacy.cell_statistics(rows, ["area"], value="kwh", customer="meter")["customers"].tolist() == [1]
    assert privacy.cell_statistics(rows.assign(kwh=np.nan), ["area"], value="kwh", customer="meter").empty
    with pytest.raises(ValueError, match="negative"):
        privacy.cell_statistics(rows.assign(kwh=[-1.0, 2.0]), ["area"], value="kwh", customer="meter")
    with pytest.raises(ValueError, match="same depth"):
        privacy.cell_statistics(rows.assign(area=["a1", "A"], kwh=[10.0, 5.0]), ["area"], value="kwh", customer="meter",
                                margins=[AREA])
    with pytest.raises(ValueError, match="missing"):
        privacy.cell_statistics(rows.assign(meter=["m1", None]), ["area"], value="kwh", customer="meter")


def test_hierarchy_from_a_table_of_levels():
    table = pd.DataFrame({"ward_code": ["a1", "a2", "b1"], "gu_code": ["A", "A", "B"]})
    area = privacy.Hierarchy.from_levels(table, ["ward_code", "gu_code"], top="city", column="area")
    assert area == privacy.Hierarchy(column="area", parent={"a1": "A", "a2": "A", "b1": "B", "A": "city", "B": "city"})
    with pytest.raises(ValueError, match="more than one"):
        privacy.Hierarchy.from_levels(pd.DataFrame({"ward_code": ["a1", "a1"], "gu_code": ["A", "B"]}),
                                      ["ward_code", "gu_code"])


def test_a_meter_standing_for_households_counts_them_with_equal_shares():
    """A complex's district-heat meter of 500 households is 500 customers, none dominant; with a
    single household's meter beside it, that household's share is what counts."""
    rows = pd.DataFrame({"area": ["a1", "a1"], "meter": ["complex", "house"], "kwh": [50_000.0, 900.0],
                         "households": [500, 1]})
    cells = privacy.cell_statistics(rows, ["area"], value="kwh", customer="meter", represents="households")
    assert cells["customers"].tolist() == [501]
    assert cells["largest_share"].item() == pytest.approx(900.0 / 50_900.0)
    assert privacy.primary_suppression(cells, RULE).tolist() == [""]
    alone = privacy.cell_statistics(rows.iloc[:1].assign(households=[10]), ["area"], value="kwh", customer="meter",
                                    represents="households")
    assert privacy.primary_suppression(alone, RULE).tolist() == ["too_few_customers"]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(meters=st.lists(st.tuples(st.sampled_from(["a1", "a2", "a3", "b1", "b2"]), st.sampled_from(["apartment", "shop"]),
                                 st.integers(1, 40), st.lists(st.one_of(st.none(), st.floats(0, 1e6)), min_size=3,
                                                                 max_size=3)), min_size=1, max_size=40))
def test_statistics_of_the_finest_cells_roll_up_like_customer_rows(meters):
    """What the store computes per dong × type × month (customers, total, largest) rolls up the
    hierarchies to the same statistics as customer-level rows: a meter is in one dong and one type."""
    building = privacy.Hierarchy(column="type", parent={"apartment": "all", "shop": "all"})
    rows = pd.DataFrame([{"area": area, "type": kind, "month": month, "meter": f"m{i}", "households": households,
                          "kwh": value}
                         for i, (area, kind, households, values) in enumerate(meters)
                         for month, value in zip(["2024-01", "2024-02", "2024-03"], values)])
    rows["kwh"] = rows["kwh"].astype(float)
    by = ["area", "type", "month"]
    expected = privacy.cell_statistics(rows, by, value="kwh", customer="meter", margins=[AREA, building],
                                       represents="households")
    counted = rows.dropna(subset=["kwh"]).assign(share=lambda f: f["kwh"] / f["households"])
    partials = counted.groupby(by).agg(customers=("households", "sum"), total=("kwh", "sum"),
                                       largest=("share", "max")).reset_index()
    combined = privacy.combine_statistics(partials, by, margins=[AREA, building])
    pd.testing.assert_frame_equal(combined, expected, check_dtype=False, rtol=1e-12)


def test_statistics_of_the_finest_cells_refuse_negative_values():
    with pytest.raises(ValueError, match="negative"):
        privacy.combine_statistics(pd.DataFrame({"area": ["a1"], "customers": [3], "total": [-1.0], "largest": [1.0]}),
                                   ["area"])


ONE_WAY = _cells([("city", 300, 3000.0, 0.01), ("A", 145, 1500.0, 0.02), ("B", 155, 1500.0, 0.02),
                  ("a1", 10, 100.0, 0.10), ("a2", 40, 400.0, 0.05), ("a3", 95, 1000.0, 0.03),
                  ("b1", 55, 500.0, 0.04), ("b2", 100, 1000.0, 0.02)])
PATTERN = ONE_WAY.assign(suppressed=ONE_WAY["area"].isin(["a1", "a2"]))


# --- Publishing -----------------------------------------------------------------------------------

def test_mask_blanks_hidden_values_keeps_a_flag_and_publishes_nothing_else():
    published = privacy.mask_suppressed(PATTERN, ["area"], values=["total", "customers"])
    assert published.columns.tolist() == ["area", "total", "customers", "suppressed"]
    hidden = published.set_index("area").loc[["a1", "a2"]]
    assert hidden["total"].isna().all() and hidden["customers"].isna().all() and hidden["suppressed"].all()
    assert published["customers"].dtype == "Int64"
    assert published.set_index("area").loc["city", "total"] == 3000.0


def test_a_signed_table_takes_the_pattern_of_its_use_table():
    pattern = PATTERN
    savings = pd.DataFrame({"area": ["a1", "a2", "a3", "A"], "savings_kwh": [-5.0, 12.0, 40.0, 47.0]})
    published = privacy.mask_suppressed(savings, ["area"], values=["savings_kwh"], pattern=pattern)
    assert published["savings_kwh"].isna().tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="no cell in the suppression pattern"):
        privacy.mask_suppressed(savings.assign(area=["a1", "a2", "a3", "z9"]), ["area"], values=["savings_kwh"],
                                pattern=pattern)
