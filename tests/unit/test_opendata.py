"""The open data: every table written in every format, nothing per household, every published
cell passes the 15/15 rule, no hidden cell recoverable from a published total, rebuilt only on change."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from energy_lib.publish import opendata, privacy

pytestmark = pytest.mark.xdist_group("published")

VALUES = {"consumption_monthly": "total", "savings": "savings", "carbon_point": "meters", "generation": "total",
          "stock": "sites"}


def test_every_table_is_written_as_parquet_and_excel_readable_csv(published):
    for name in opendata.TABLES:
        frame = opendata.read(published["data"], name)
        assert list(frame.columns) == [c.name for c in opendata.TABLES[name]], name
        raw = (published["data"] / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{name}.csv needs a BOM so that Excel reads Korean"
        assert len(pd.read_csv(published["data"] / f"{name}.csv", encoding="utf-8-sig", dtype=str)) == len(frame)


def _identifiers(published, demo) -> set[str]:
    """Every meter and site pseudonym of the store (with and without its ``m-``/``s-`` prefix) and
    every customer number of the demo's raw files."""
    from cleartext import demo_customer_numbers

    store = published["store"]
    ids = set(store.read("meters")["meter_id"].dropna()) | set(store.read("meters")["site_id"].dropna())
    ids |= set(store.read("sites")["site_id"].dropna())
    assert len(ids) > 1_000 and all(i.startswith(("m-", "s-")) for i in ids)
    return ids | {i[2:] for i in ids} | demo_customer_numbers(demo["raw"])


def test_no_identifier_of_a_meter_site_or_customer_is_published(published, demo):
    """Every file of the open data (Parquet, CSV, JSON, the API) read cell by cell against the
    store's actual meter and site pseudonyms and the demo's customer numbers."""
    from cleartext import leaks

    files = [p for p in published["data"].rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".parquet", ".csv", ".json"}
    assert {f"{name}.parquet" for name in opendata.TABLES} <= {p.name for p in files}
    found = leaks(files, _identifiers(published, demo))
    assert not found, found
    for path in files:
        if path.suffix in {".csv", ".json"}:
            text = path.read_text("utf-8-sig")
            assert "meter_id" not in text and "site_id" not in text, path


@pytest.mark.parametrize("name", sorted(VALUES))
def test_published_cells_hold_enough_customers(published, name):
    frame = opendata.read(published["data"], name)
    shown = frame[~frame["suppressed"]]
    hidden = frame[frame["suppressed"]]
    if name != "generation":  # the small demo has too few PV sites for any published cell
        assert len(hidden) and len(shown), "the small demo has cells on both sides"
    assert hidden[VALUES[name]].isna().all()
    count = next(c for c in ("customers", "meters", "sites") if c in frame)
    # a complex's district-heat meter stands for its households: one meter can be many customers
    counted = shown[shown["carrier"] != "heat"] if count == "meters" else shown
    assert (counted[count] >= privacy.SuppressionRule.configured().min_customers).all()
    assert hidden[count].isna().all(), "counts of hidden cells would say why they are hidden"


def test_no_hidden_cell_can_be_recovered_by_subtraction(published):
    """For every relation dong → gu → city and type → sector → all: a published total has zero
    hidden members or at least two."""
    frame = opendata.read(published["data"], "consumption_monthly")
    keys = ["carrier", "month"]
    sectors = {**opendata.SECTORS}
    groups = [
        (frame[frame["level"] == "ward"], "area", lambda f: f["gu_code"], "building_type"),
        (frame[frame["level"] == "gu"], "area", lambda f: pd.Series("city", index=f.index), "building_type"),
        (frame[frame["building_type"].isin(opendata.BUILDING_TYPES)], "building_type",
         lambda f: f["building_type"].map(sectors), "area"),
        (frame[frame["building_type"].isin(set(sectors.values()))], "building_type",
         lambda f: pd.Series("all", index=f.index), "area"),
    ]
    lookup = frame.set_index(["area", "building_type", *keys])["suppressed"]
    checked = 0
    for members, member_column, parent_of, other in groups:
        members = members.assign(parent=parent_of(members))
        for (parent, other_value, *rest), rows in members.groupby(["parent", other, *keys]):
            key = (parent, other_value, *rest) if member_column == "area" else (other_value, parent, *rest)
            if lookup.get(key, True):  # total hidden or absent: nothing to subtract from
                continue
            assert rows["suppressed"].sum() != 1, (member_column, key)
            checked += 1
    assert checked > 100


def test_api_has_one_file_per_area_and_table(published):
    index = json.loads((published["data"] / "api" / "index.json").read_text("utf-8"))
    assert set(index["tables"]) == set(opendata.TABLES)
    consumption = opendata.read(published["data"], "consumption_monthly")
    areas = consumption.drop_duplicates(["level", "area"])
    for row in areas.itertuples():
        path = published["data"] / "api" / row.level / row.area / "consumption_monthly.json"
        body = json.loads(path.read_text("utf-8"))
        assert body["area"] == row.area and len(body["rows"]) == (consumption["area"] == row.area).sum()


def test_manifest_hashes_every_file_and_records_provenance(published):
    manifest = opendata.manifest(published["data"])
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((published["data"] / relative).read_bytes()).hexdigest() == digest, relative
    assert manifest["period"]["start"] <= manifest["period"]["end"]
    assert manifest["privacy"]["min_customers"] == 15 and manifest["privacy"]["max_share"] == 0.15
    assert manifest["code_version"].startswith("0.") and len(manifest["data_hash"]) == 64
    assert (published["data"] / "LICENSE.txt").exists() and (published["data"] / "dictionary.csv").exists()
    dictionary = pd.read_csv(published["data"] / "dictionary.csv", encoding="utf-8-sig")
    assert set(dictionary["table"]) == set(opendata.TABLES)


def test_nothing_is_rewritten_when_the_inputs_did_not_change(published):
    path = published["data"] / "consumption_monthly.parquet"
    before = path.stat().st_mtime_ns
    again = opendata.build(published["store"], published["derived"], published["data"])
    assert again["data_hash"] == published["manifest"]["data_hash"] and path.stat().st_mtime_ns == before


def test_a_rebuild_reproduces_every_file(published, tmp_path):
    again = opendata.build(published["store"], published["derived"], tmp_path / "data")
    assert again["files"] == published["manifest"]["files"]


def test_savings_sum_the_meters_in_totals_with_their_shared_errors(published):
    savings = opendata.read(published["data"], "savings")
    derived = published["derived"].read("savings")
    rows = derived[derived["in_totals"] & (derived["analysis"] == "annual")].dropna(subset=["savings", "band"])
    assert (derived["primary"] & (derived["analysis"] == "annual") & (derived["sufficiency"] == "fail")
            & derived["savings"].notna()).any(), "the small demo has insufficient baselines to leave out"
    left_out = derived[derived["primary"] & ~derived["in_totals"] & (derived["analysis"] == "annual")].dropna(
        subset=["savings", "band"])
    shown = savings[(savings["area"] == "city") & (savings["analysis"] == "annual") & ~savings["suppressed"]]
    assert len(shown) and shown["meters_insufficient"].sum() > 0
    for cell in shown.itertuples():
        mine, out = rows[rows["carrier"] == cell.carrier], left_out[left_out["carrier"] == cell.carrier]
        if cell.building_type in opendata.SECTORS:
            mine, out = mine[mine["building_type"] == cell.building_type], out[out["building_type"] == cell.building_type]
        elif cell.building_type != opendata.ALL_TYPES:
            mine = mine[mine["building_type"].map(opendata.SECTORS) == cell.building_type]
            out = out[out["building_type"].map(opendata.SECTORS) == cell.building_type]
        assert cell.meters == len(mine)
        # the meters left out are counted beside the sum, by reason
        assert cell.meters_insufficient == (out["sufficiency"] == "fail").sum()
        assert cell.meters_programme_in_baseline == out["programme_in_baseline"].sum()
        assert cell.savings == pytest.approx(mine["savings"].sum())
        own = (mine["se"] ** 2 - mine["se_common"] ** 2 - mine["se_ward"] ** 2 - mine["se_gu"] ** 2).sum()
        shared = (mine["se_common"].sum() ** 2 + (mine.groupby("ward_code")["se_ward"].sum() ** 2).sum()
                  + (mine.groupby("gu_code")["se_gu"].sum() ** 2).sum())
        assert cell.band == pytest.approx(1.6448536 * np.sqrt(own + shared))


def test_programme_evaluations_of_few_participants_are_withheld(published):
    effects = opendata.read(published["data"], "programme_effects")
    minimum = privacy.SuppressionRule.configured().min_customers
    derived = published["derived"].read("programme_effects").set_index(["programme_id", "carrier"])
    few = (derived["participants"] < minimum) | (derived["controls"].fillna(0) < minimum)
    assert few.all(), "the small demo's programmes are below the rule"
    assert effects["suppressed"].all() and effects[["effect", "ci_low", "ci_high", "participants"]].isna().all().all()
    for name in ("programme_event_study", "programme_savings", "programme_balance", "programme_cost"):
        frame = opendata.read(published["data"], name)
        assert frame["suppressed"].all(), name
    programmes = opendata.read(published["data"], "programmes")
    assert set(programmes["programme_id"]) == {"balcony_pv", "energy_village", "insulation_retrofit"}


def test_the_built_release_survives_the_attack(published):
    """The attack on the open data as built, with everything it publishes: no withheld number can
    be narrowed below the protection level, and the audit beside the open data says so."""
    summary = opendata.audit_site(published["data"], published["store"], published["derived"])
    assert summary["recoverable"].eq(0).all(), summary
    assert (summary["hidden_primary"] > 0).any()
    assert (summary["smallest_protection"] >= 0.15 - 1e-6).all()
    written = pd.read_csv(published["data"] / "audit.csv")
    assert written["recoverable"].eq(0).all() and set(written["table"]) == set(summary["table"])


def test_an_altered_site_fails_the_attack(published, tmp_path):
    """A withheld dong published again (its value filled in) is caught: either as a value the store
    does not give, or, with the true value, as a number that now gives a neighbour away."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(published["data"], data)
    from energy_lib.publish import disclosure

    release, cells = disclosure.build_release(**opendata.release_inputs(published["store"], published["derived"]))
    consumption = cells["consumption"]
    monthly = pd.read_parquet(data / "consumption_monthly.parquet")
    # a complement next to a primary cell: publishing it with its true value leaves the primary alone
    protected = opendata.protect(published["store"], published["derived"])
    reason = protected.reason("consumption")
    candidates = consumption[(reason == "complementary") & (consumption["period"].str.len() == 7)]
    cell = candidates.iloc[0]
    key = ((monthly["area"] == cell["area"]) & (monthly["building_type"] == cell["building_type"])
           & (monthly["carrier"] == cell["carrier"]) & (monthly["month"] == cell["period"]))
    monthly.loc[key, ["total", "suppressed"]] = [cell["total"], False]
    monthly.to_parquet(data / "consumption_monthly.parquet", index=False)
    summary = opendata.audit_site(data, published["store"], published["derived"])
    assert summary.set_index("table").loc["consumption", "hidden_complementary"] == \
        int((reason == "complementary").sum()) - 1
    monthly.loc[key, "total"] = cell["total"] * 2  # a value the store does not give
    monthly.to_parquet(data / "consumption_monthly.parquet", index=False)
    with pytest.raises(ValueError, match="differ from the store"):
        opendata.audit_site(data, published["store"], published["derived"])


def test_availability_is_written_with_the_open_data(published):
    availability = pd.read_csv(published["data"] / "availability.csv", keep_default_na=False)
    assert {"consumption", "savings", "carbon_point", "generation", "stock"} <= set(availability["table"])
    assert (availability["published"] <= availability["cells"]).all()
    assert (availability["complement"] <= availability["passes"]).all()


def test_city_and_gu_totals_are_complements_only_where_a_gu_total_fails_the_rule(published):
    """City and gu totals of all types are locked: withheld as complements only where nothing else
    protects, which in the small demo happens only beside a gu total that fails the rule itself
    (a gu's total is then protected only by another gu's, or the city's)."""
    protected = opendata.protect(published["store"], published["derived"])
    cells = protected.cells["consumption"].assign(reason=protected.reason("consumption"))
    totals = cells[(cells["building_type"] == "all") & (cells["area"].astype(str).str.len() <= 5)]
    failing = set(totals.loc[totals["primary"] != "", ["carrier", "period"]].itertuples(index=False, name=None))
    locked_complements = totals.loc[totals["reason"] == "complementary", ["carrier", "period"]]
    assert set(locked_complements.itertuples(index=False, name=None)) <= failing
    passing = totals[totals["primary"] == ""]
    assert (passing["reason"] == "").mean() >= 0.85, "most city and gu totals are published (the default demo: all)"


def test_energy_audit_command_attacks_a_built_site(published):
    from typer.testing import CliRunner

    from energy_lib.cli import app

    result = CliRunner().invoke(app, ["audit", str(published["site"]), "--store", str(published["store"].root),
                                      "--derived", str(published["derived"].root)])
    assert result.exit_code == 0, result.output
    assert "passed" in result.output and "consumption" in result.output
    missing = CliRunner().invoke(app, ["audit", str(published["site"] / "nowhere")])
    assert missing.exit_code == 1 and "energy publish" in missing.output
