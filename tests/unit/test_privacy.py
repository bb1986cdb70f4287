"""Disclosure control of published tables: the 15/15 rule and complementary suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_lib import configuration, privacy, wards

RULE = privacy.SuppressionRule(min_customers=15, max_share=0.15)

# Gwangju-like toy areas: dongs a1..a3 in gu A, b1..b2 in gu B, both in the city.
AREA = privacy.Hierarchy(column="area", parent={"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B",
                                                "A": "city", "B": "city"})


def _cells(records, by=("area",)) -> pd.DataFrame:
    """Cells from (key..., customers, total, largest_share) tuples."""
    return pd.DataFrame(records, columns=[*by, *privacy.STATISTICS])


def _with_margins(leaves: pd.DataFrame, by: list[str], margins: list[privacy.Hierarchy]) -> pd.DataFrame:
    """Leaf cells plus every margin, with consistent statistics: customers and totals add up, the
    largest customer of a margin is the largest of its leaves' largest customers."""
    leaves = leaves.assign(largest=leaves["largest_share"] * leaves["total"])
    levels = [leaves]
    for hierarchy in margins:
        for level in list(levels):
            while level[hierarchy.column].isin(hierarchy.parent).all():
                level = level.assign(**{hierarchy.column: level[hierarchy.column].map(hierarchy.parent)})
                level = level.groupby(by, as_index=False).agg(customers=("customers", "sum"), total=("total", "sum"),
                                                              largest=("largest", "max"))
                levels.append(level)
    cells = pd.concat(levels, ignore_index=True)
    cells["largest_share"] = cells.pop("largest") / cells["total"]
    return cells.sort_values(by, ignore_index=True)


def _disclosures(table: pd.DataFrame, by: list[str], hierarchy: privacy.Hierarchy, rule=RULE) -> pd.DataFrame:
    """Relations of ``hierarchy`` (written independently of the library) where subtraction reveals
    something: a published total with exactly one hidden member (total − published members = it),
    a hidden total with every member published (it is their sum), or a published total whose hidden
    members, not all of them, together fail the rule (their sum is revealed)."""
    others = [c for c in by if c != hierarchy.column]
    members = table[table[hierarchy.column].isin(hierarchy.parent)]
    members = members.assign(head=members[hierarchy.column].map(hierarchy.parent),
                             largest=members["largest_share"] * members["total"],
                             hidden=members["suppressed"].astype(int))
    hidden = members[members["suppressed"]]
    per_relation = pd.concat([
        members.groupby(["head", *others])["hidden"].agg(hidden_members="sum", members="size"),
        hidden.groupby(["head", *others]).agg(customers=("customers", "sum"), total=("total", "sum"),
                                              largest=("largest", "max")),
    ], axis=1)
    totals = table.rename(columns={hierarchy.column: "head"}).set_index(["head", *others])["suppressed"]
    joined = per_relation.join(totals.rename("total_hidden"), how="inner")
    union_fails = (((joined["customers"] < rule.min_customers) | (joined["largest"] / joined["total"] > rule.max_share))
                   & (joined["hidden_members"] < joined["members"]))
    published_total = ~joined["total_hidden"]
    return joined[(published_total & (joined["hidden_members"] == 1))
                  | (~published_total & (joined["hidden_members"] == 0))
                  | (published_total & (joined["hidden_members"] >= 1) & union_fails)]


def _determined(table: pd.DataFrame, by: list[str], margins: list[privacy.Hierarchy]) -> list[tuple]:
    """Hidden cells whose value follows exactly from the published cells by linear algebra: cell j
    is determined when the unit vector e_j lies in the row space of the relations restricted to
    the hidden cells. Small tables only."""
    table = table.reset_index(drop=True)
    key = {tuple(row): i for i, row in enumerate(table[by].itertuples(index=False))}
    relations = []
    for hierarchy in margins:
        position = by.index(hierarchy.column)
        for i, row in enumerate(table[by].itertuples(index=False)):
            children = [cell for k, cell in key.items()
                        if hierarchy.parent.get(k[position]) == row[position]
                        and all(k[p] == row[p] for p in range(len(by)) if p != position)]
            if children:
                relation = np.zeros(len(table))
                relation[i], relation[children] = 1.0, -1.0
                relations.append(relation)
    hidden = np.flatnonzero(table["suppressed"].to_numpy())
    restricted = np.array(relations)[:, hidden]
    rank = np.linalg.matrix_rank(restricted)
    return [tuple(table.loc[cell, by]) for j, cell in enumerate(hidden)
            if np.linalg.matrix_rank(np.vstack([restricted, np.eye(len(hidden))[j]])) == rank]


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
    assert privacy.suppress(cells, ["area"])["suppression"].tolist() == ["", "too_few_customers", "dominant_customer"]


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


# --- Complementary suppression --------------------------------------------------------------------

ONE_WAY = _cells([("city", 300, 3000.0, 0.01), ("A", 145, 1500.0, 0.02), ("B", 155, 1500.0, 0.02),
                  ("a1", 10, 100.0, 0.10), ("a2", 40, 400.0, 0.05), ("a3", 95, 1000.0, 0.03),
                  ("b1", 55, 500.0, 0.04), ("b2", 100, 1000.0, 0.02)])


def test_one_way_hierarchy_hides_the_smallest_sibling_of_a_primary_cell():
    out = privacy.suppress(ONE_WAY, ["area"], margins=[AREA], rule=RULE).set_index("area")
    assert out.loc["a1", "suppression"] == "too_few_customers"
    assert out.loc["a2", "suppression"] == "complementary"  # the smallest published dong of gu A
    assert out["suppressed"].sum() == 2
    assert _disclosures(out.reset_index(), ["area"], AREA).empty


def test_a_tiny_complement_is_not_enough_when_the_hidden_cells_together_fail_the_rule():
    # a1 is dominated by one customer of 50 kWh; with a2 (5 kWh) alone the hidden pair would be
    # 105 kWh with that customer at 48%: a1 is then known to within 5 kWh.
    cells = _cells([("A", 165, 1605.0, 0.03), ("a1", 30, 100.0, 0.5), ("a2", 20, 5.0, 0.05),
                    ("a3", 115, 1500.0, 0.02)])
    out = privacy.suppress(cells, ["area"], margins=[AREA], rule=RULE).set_index("area")
    assert out["suppression"].to_dict() == {"A": "", "a1": "dominant_customer", "a2": "complementary",
                                            "a3": "complementary"}


def test_complements_are_chosen_by_total_and_ties_by_key_order():
    cells = _cells([("A", 200, 1000.0, 0.01), ("a3", 95, 450.0, 0.01), ("a1", 5, 100.0, 0.1),
                    ("a2", 100, 450.0, 0.01)])
    out = privacy.suppress(cells, ["area"], margins=[AREA], rule=RULE).set_index("area")
    assert out.loc["a2", "suppression"] == "complementary" and out.loc["a3", "suppression"] == ""


def test_a_hidden_total_is_not_left_as_the_sum_of_its_published_members():
    # Gu B fails the rule (all its customers sit in b1); the city relation hides gu A, the smaller
    # other gu, and gu A's relation then hides a dong so that A ≠ the sum of its published dongs.
    cells = _cells([("city", 320, 2200.0, 120 / 2200), ("A", 310, 1200.0, 0.02), ("B", 10, 1000.0, 0.12),
                    ("a1", 100, 300.0, 0.04), ("a2", 100, 400.0, 0.03), ("a3", 110, 500.0, 0.03),
                    ("b1", 10, 1000.0, 0.12)])
    out = privacy.suppress(cells, ["area"], margins=[AREA], rule=RULE).set_index("area")
    assert out["suppression"].to_dict() == {"city": "", "A": "complementary", "B": "too_few_customers",
                                            "a1": "complementary", "a2": "", "a3": "", "b1": "too_few_customers"}
    assert _disclosures(out.reset_index(), ["area"], AREA).empty


DONGS = privacy.Hierarchy(column="area", parent={"a1": "A", "a2": "A", "a3": "A"})
TYPES = privacy.Hierarchy(column="type", parent={"x": "all", "y": "all", "z": "all"})


def _two_way(total: dict[tuple[str, str], float], *, customers: dict | None = None,
             share: dict | None = None) -> pd.DataFrame:
    """A dong × type table of gu A with its margins; 50 customers and a 5% largest share unless given."""
    leaves = pd.DataFrame([(a, t, (customers or {}).get((a, t), 50), value, (share or {}).get((a, t), 0.05))
                           for (a, t), value in total.items()], columns=["area", "type", *privacy.STATISTICS])
    return _with_margins(leaves, ["area", "type"], [DONGS, TYPES])


def test_two_way_table_with_margins_cascades_across_both_dimensions():
    # (a1, x) fails. Its row hides (a1, y) and its column (a2, x), the smallest of each; that leaves
    # row a2 and column y with one hidden cell each, and both hide (a2, y): a rectangle.
    total = {("a1", "x"): 100.0, ("a1", "y"): 200.0, ("a1", "z"): 900.0,
             ("a2", "x"): 300.0, ("a2", "y"): 400.0, ("a2", "z"): 800.0,
             ("a3", "x"): 700.0, ("a3", "y"): 600.0, ("a3", "z"): 500.0}
    out = privacy.suppress(_two_way(total, customers={("a1", "x"): 5}), ["area", "type"], margins=[DONGS, TYPES],
                           rule=RULE)
    hidden = out.loc[out["suppressed"], ["area", "type", "suppression"]]
    assert sorted(map(tuple, hidden.to_numpy())) == [("a1", "x", "too_few_customers"), ("a1", "y", "complementary"),
                                                     ("a2", "x", "complementary"), ("a2", "y", "complementary")]
    assert _disclosures(out, ["area", "type"], DONGS).empty and _disclosures(out, ["area", "type"], TYPES).empty
    assert _determined(out, ["area", "type"], [DONGS, TYPES]) == []


def test_a_margin_hidden_as_a_complement_spreads_into_the_other_dimension():
    # One customer of 100 kWh dominates (a1, z) and, at 16.7%, the gu's (A, z), but not a1's row.
    # Row A hides (A, x) as the complement of (A, z); column x then has a hidden total and no hidden
    # dong, so it hides its smallest dong, (a2, x); and so on until every row and column is safe.
    total = {("a1", "x"): 500.0, ("a1", "y"): 400.0, ("a1", "z"): 300.0,
             ("a2", "x"): 300.0, ("a2", "y"): 600.0, ("a2", "z"): 200.0,
             ("a3", "x"): 400.0, ("a3", "y"): 700.0, ("a3", "z"): 100.0}
    out = privacy.suppress(_two_way(total, share={("a1", "z"): 100 / 300}), ["area", "type"], margins=[DONGS, TYPES],
                           rule=RULE)
    flags = out.set_index(["area", "type"])["suppression"]
    assert flags[flags != ""].sort_index().to_dict() == {
        ("A", "x"): "complementary", ("A", "z"): "dominant_customer", ("a1", "y"): "complementary",
        ("a1", "z"): "dominant_customer", ("a2", "x"): "complementary", ("a2", "y"): "complementary"}
    assert _disclosures(out, ["area", "type"], DONGS).empty and _disclosures(out, ["area", "type"], TYPES).empty
    assert _determined(out, ["area", "type"], [DONGS, TYPES]) == []


def _random_table(seed: int) -> tuple[pd.DataFrame, list[str], list[privacy.Hierarchy]]:
    """Customer rows of a random ward × building type × month table, as cells with all margins."""
    rng = np.random.default_rng(seed)
    types = privacy.Hierarchy(column="type", parent={"apartment": "all", "detached": "all", "shop": "all"})
    dongs = [d for d, gu in AREA.parent.items() if gu != "city"]
    meters = pd.DataFrame({"area": rng.choice(dongs, 400), "type": rng.choice(list(types.parent), 400, p=[0.6, 0.3, 0.1])})
    meters["meter"] = [f"m{i}" for i in range(len(meters))]
    rows = meters.merge(pd.DataFrame({"month": ["01", "02"]}), how="cross")
    rows["kwh"] = rng.lognormal(5, 1.2, len(rows))
    by = ["area", "type", "month"]
    return privacy.cell_statistics(rows, by, value="kwh", customer="meter", margins=[AREA, types]), by, [AREA, types]


@pytest.mark.parametrize("seed", range(6))
def test_no_hidden_cell_of_a_random_table_can_be_recovered_by_subtraction(seed):
    cells, by, margins = _random_table(seed)
    out = privacy.suppress(cells, by, margins=margins, rule=RULE)
    assert (out["suppression"] == "complementary").any()
    assert out.loc[privacy.primary_suppression(cells, RULE) != "", "suppressed"].all()
    for hierarchy in margins:
        assert _disclosures(out, by, hierarchy).empty


def test_the_result_does_not_depend_on_row_order_and_is_repeatable():
    cells, by, margins = _random_table(7)
    first = privacy.suppress(cells, by, margins=margins, rule=RULE)
    shuffled = cells.sample(frac=1.0, random_state=3)
    second = privacy.suppress(shuffled, by, margins=margins, rule=RULE).sort_values(by, ignore_index=True)
    pd.testing.assert_frame_equal(first, privacy.suppress(cells, by, margins=margins, rule=RULE))
    pd.testing.assert_frame_equal(first.sort_values(by, ignore_index=True), second)


def test_without_margins_only_the_primary_cells_are_hidden():
    cells = _cells([("a1", 5, 100.0, 0.1), ("a2", 40, 400.0, 0.05)])
    assert privacy.suppress(cells, ["area"], rule=RULE)["suppressed"].tolist() == [True, False]


def test_duplicated_cells_are_an_error():
    with pytest.raises(ValueError, match="one row per"):
        privacy.suppress(pd.concat([ONE_WAY, ONE_WAY]), ["area"], margins=[AREA], rule=RULE)


def test_city_scale_ward_month_carrier_table_with_gu_and_city_totals():
    rng = np.random.default_rng(2026)
    area = privacy.Hierarchy.from_levels(wards.wards(), ["ward_code", "gu_code"], top="city", column="area")
    months = pd.period_range("2022-01", periods=58, freq="M").astype(str)
    carriers = ["electricity", "gas", "water", "heat"]
    leaves = pd.MultiIndex.from_product([wards.wards()["ward_code"], months, carriers],
                                        names=["area", "month", "carrier"]).to_frame(index=False)
    typical = leaves["carrier"].map({"electricity": 400, "gas": 300, "water": 350, "heat": 12}).to_numpy()
    leaves["customers"] = rng.poisson(typical * rng.lognormal(0, 0.7, len(leaves)))
    leaves = leaves[leaves["customers"] > 0].reset_index(drop=True)
    leaves["total"] = leaves["customers"] * rng.lognormal(5, 0.3, len(leaves))
    dominated = rng.random(len(leaves)) < 0.02  # a large site in a small ward
    leaves["largest_share"] = np.where(dominated, rng.uniform(0.16, 0.6, len(leaves)),
                                       np.minimum(1.0, 3.0 / leaves["customers"]))
    by = ["area", "month", "carrier"]
    cells = _with_margins(leaves, by, [area])
    assert len(cells) > 96 * 58 * 3

    out = privacy.suppress(cells, by, margins=[area], rule=RULE)
    reasons = out["suppression"].value_counts()
    assert reasons["too_few_customers"] > 100 and reasons["dominant_customer"] > 100 and reasons["complementary"] > 100
    assert _disclosures(out, by, area).empty
    assert not out.loc[out["area"] == "city", "suppressed"].any()
    published = privacy.mask_suppressed(out, by, values=["total"])
    assert published["total"].isna().sum() == out["suppressed"].sum()


# --- Publishing -----------------------------------------------------------------------------------

def test_mask_blanks_hidden_values_keeps_a_flag_and_publishes_nothing_else():
    out = privacy.suppress(ONE_WAY, ["area"], margins=[AREA], rule=RULE)
    published = privacy.mask_suppressed(out, ["area"], values=["total", "customers"])
    assert published.columns.tolist() == ["area", "total", "customers", "suppressed"]
    hidden = published.set_index("area").loc[["a1", "a2"]]
    assert hidden["total"].isna().all() and hidden["customers"].isna().all() and hidden["suppressed"].all()
    assert published["customers"].dtype == "Int64"
    assert published.set_index("area").loc["city", "total"] == 3000.0


def test_a_signed_table_takes_the_pattern_of_its_use_table():
    pattern = privacy.suppress(ONE_WAY, ["area"], margins=[AREA], rule=RULE)
    savings = pd.DataFrame({"area": ["a1", "a2", "a3", "A"], "savings_kwh": [-5.0, 12.0, 40.0, 47.0]})
    published = privacy.mask_suppressed(savings, ["area"], values=["savings_kwh"], pattern=pattern)
    assert published["savings_kwh"].isna().tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="no cell in the suppression pattern"):
        privacy.mask_suppressed(savings.assign(area=["a1", "a2", "a3", "z9"]), ["area"], values=["savings_kwh"],
                                pattern=pattern)
