"""Peer figures of "my savings": never a household's value, nothing for small groups, judged sensibly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from energy_lib.apps import peers
from energy_lib.publish.privacy import SuppressionRule

SETTINGS = peers.PeerSettings.configured()
MINIMUM = SETTINGS.min_households


def _members_equal(frame: pd.DataFrame, stats: pd.DataFrame, keys: list[str], value: str, figure: str) -> pd.Series:
    """Per group: whether the published figure equals any member's value (exactly or within
    floating-point noise)."""
    both = frame[[*keys, value]].dropna().merge(stats[[*keys, f"{value}_{figure}"]].dropna(), on=keys)
    same = np.isclose(both[value], both[f"{value}_{figure}"], rtol=1e-9, atol=0.0) | (both[value] == both[f"{value}_{figure}"])
    return same.groupby([both[k] for k in keys]).any()


@st.composite
def groups(draw) -> pd.DataFrame:
    """A few peer groups: sizes around the minimum (just below, at, just above, larger), values
    drawn from a handful of distinct numbers (ties, water's whole m³) or freely, some missing."""
    frames = []
    for g in range(draw(st.integers(1, 4))):
        size = draw(st.sampled_from([MINIMUM - 1, MINIMUM, MINIMUM + 1, MINIMUM + 2, 2 * MINIMUM, 41]))
        if draw(st.booleans()):  # few distinct values: every band is made of ties
            pool = draw(st.lists(st.integers(0, 400).map(float), min_size=1, max_size=3))
            values = draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size))
        else:
            values = draw(st.lists(st.floats(0.0, 1e5, allow_nan=False).map(lambda v: round(v, 1)),
                                   min_size=size, max_size=size))
        values = np.array(values)
        gaps = draw(st.integers(0, 2))
        values[:gaps] = np.nan  # households without a complete year
        frames.append(pd.DataFrame({"group": f"g{g}", "use": values}))
    return pd.concat(frames, ignore_index=True)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(groups())
def test_no_published_figure_equals_a_members_value_and_small_groups_publish_nothing(frame):
    stats = peers.group_statistics(frame, ["group"], ["use"], SETTINGS)
    counts = frame.groupby("group")["use"].agg(["size", "count"])
    small = counts[(counts["size"] < MINIMUM) | (counts["count"] < MINIMUM)].index
    published = stats.set_index("group")
    for figure in peers.FIGURES:
        assert published.loc[small, f"use_{figure}"].isna().all()  # below the minimum: nothing
        assert not _members_equal(frame, stats, ["group"], "use", figure).any()
        # every group at or above the minimum gets its figure (the bands hold ≥ 3 households there)
        assert published.drop(index=small)[f"use_{figure}"].notna().all()
    # the figures are close to what they describe: within the band's values, give or take a rounding step
    for group, rows in frame.dropna().groupby("group"):
        if group in small:
            continue
        ordered = np.sort(rows["use"].to_numpy())
        typical = published.loc[group, "use_typical"]
        low, high = ordered[int(0.4 * len(ordered))], ordered[int(np.ceil(0.6 * len(ordered))) - 1]
        _, steps = peers.round_significant([typical, high], SETTINGS.significant_digits)
        # each move passes one member's value at most; a mean of 0 rounds in steps of 1
        slack = (rows["use"].nunique() + 1) * max(steps.max(), 1.0 if high == 0 else 0.0)
        assert low - slack <= typical <= high + slack


def test_band_means_are_over_the_middle_and_the_efficient_households():
    frame = pd.DataFrame({"group": "g", "use": np.arange(1.0, 16.0) * 100.0})  # 100 … 1,500, 15 households
    typical = peers.band_mean(frame, ["group"], "use", (0.4, 0.6))
    efficient = peers.band_mean(frame, ["group"], "use", (0.1, 0.3))
    # ranks 6, 7, 8 (0-based) and 2, 3, 4: 700, 800, 900 and 300, 400, 500 — not 0.4·15 = 6.000000000000001 → 7
    assert typical.loc["g", "households"] == 3 and typical.loc["g", "mean"] == pytest.approx(800.0)
    assert efficient.loc["g", "households"] == 3 and efficient.loc["g", "mean"] == pytest.approx(400.0)
    # the mean of the middle band is the median (800) here: it is moved one rounding step, towards the mean's side
    stats = peers.group_statistics(frame, ["group"], ["use"], SETTINGS)
    assert stats.loc[0, "use_typical"] in (790.0, 810.0)
    assert stats.loc[0, "use_efficient"] in (390.0, 410.0)


def test_identical_households_publish_a_figure_that_is_none_of_theirs():
    frame = pd.DataFrame({"group": "g", "use": np.full(MINIMUM, 3400.0)})
    stats = peers.group_statistics(frame, ["group"], ["use"], SETTINGS)
    assert stats.loc[0, "use_typical"] in (3300.0, 3500.0) and stats.loc[0, "use_efficient"] in (3300.0, 3500.0)


def test_rounding_to_significant_digits():
    rounded, step = peers.round_significant([3412.0, 152.0, 0.0347, 0.0, np.nan], 2)
    assert rounded[:4].tolist() == pytest.approx([3400.0, 150.0, 0.035, 0.0])
    assert step[:4].tolist() == pytest.approx([100.0, 10.0, 0.001, 1.0]) and np.isnan(rounded[4])


def test_settings_come_from_the_privacy_configuration_and_refuse_unsafe_bands():
    assert SETTINGS.min_households == SuppressionRule.configured().min_customers
    assert SETTINGS.typical_band == (0.4, 0.6) and SETTINGS.efficient_band == (0.1, 0.3)
    assert SETTINGS.min_band_households >= 3 and SETTINGS.source
    with pytest.raises(ValueError, match="fewer than"):
        dataclasses.replace(SETTINGS, typical_band=(0.45, 0.55))  # 1–2 households of a group of 15
    with pytest.raises(ValueError, match="one household"):
        dataclasses.replace(SETTINGS, min_band_households=1)


def test_judgement_against_the_published_figures():
    value = pd.Series([1.0, 5.0, 9.0, np.nan])
    typical, efficient = pd.Series([6.0] * 4), pd.Series([2.0] * 4)
    judged = peers.judge(value, typical, efficient)
    assert judged.tolist()[:3] == ["great", "good", "could_save_more"] and judged.isna().iloc[3]
    assert peers.judge(pd.Series([5.0]), pd.Series([np.nan]), pd.Series([np.nan])).isna().all()


def test_exposures_find_a_median_that_is_a_households_use():
    """The audit sees what the old figures did: a median of 15 values is the 8th household's."""
    homes = pd.DataFrame({"ward_code": "w1", "gu_code": "g", "building_type": "apartment", "size_band": "60-85",
                          "use": np.arange(1.0, 16.0) * 100.0, "peer_key": "dong:w1|apartment|60-85"})
    pairs = pd.DataFrame({"centre": ["w1"], "ward_code": ["w1"]})
    old = homes.assign(typical=homes["use"].median(), efficient=homes["use"].quantile(0.2))
    found = peers.exposures(old, pairs, {"use": {"typical": "typical", "efficient": "efficient"}})
    assert found.set_index("figure")["exposed"].to_dict() == {"typical": 1, "efficient": 0}
    stats = peers.group_statistics(homes, ["ward_code"], ["use"], SETTINGS)
    new = homes.assign(typical=stats.loc[0, "use_typical"], efficient=stats.loc[0, "use_efficient"])
    assert peers.exposures(new, pairs, {"use": {"typical": "typical", "efficient": "efficient"}})["exposed"].sum() == 0
