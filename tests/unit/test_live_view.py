"""The live app's sums and words, on a status table with known numbers (two sites, one of them
15-minute), and the polling loop against files replaced as the watcher replaces them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from energy_lib import live, live_view


def _run(coroutine) -> None:
    """Run ``coroutine`` on its own event loop in another thread: a test session that drives a
    browser with Playwright's sync API already runs an event loop in this thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()

DAY = pd.Timestamp("2026-10-15")


def status(hours_read: int, *, unusual_hour: int | None = None, ratio: float = 1.1) -> pd.DataFrame:
    """A live day: an hourly site expecting 100 kWh ± 10 per hour, and a 15-minute site expecting
    10 kWh ± 4 per quarter; both read for the first ``hours_read`` hours, at ``ratio`` × expected, and
    five times the expected load in ``unusual_hour`` (flagged)."""
    rows = []
    for site, step, expected, half in (("s-a", 60, 100.0, 10.0), ("s-b", 15, 10.0, 4.0)):
        for start in pd.date_range(DAY, DAY + pd.Timedelta(days=1), freq=f"{step}min", inclusive="left"):
            read = start.hour < hours_read
            actual = expected * (5.0 if start.hour == unusual_hour else ratio) if read else np.nan
            rows.append(dict(site_id=site, meter_id=f"m-{site}", site_name={"s-a": "하남산업단지", "s-b": "광주광역시청"}[site],
                             building_type={"s-a": "industrial", "s-b": "public"}[site],
                             ward_code={"s-a": "2920064000", "s-b": "2914074500"}[site], period_start=start,
                             period_end=start + pd.Timedelta(minutes=step), resolution="hourly" if step == 60 else "15min",
                             actual_kwh=actual, expected_kwh=expected, lower_kwh=expected - half, upper_kwh=expected + half,
                             unusual=bool(read and start.hour == unusual_hour)))
    return pd.DataFrame(rows)


META = {"day": "2026-10-15", "updated_at": "2026-10-15T06:00:02+00:00", "last_file": "f.csv", "readings": 0,
        "sites": 2, "temperature_source": "observed", "confidence": 0.9}


def test_city_hours_sum_quarters_and_add_interval_half_widths_in_quadrature():
    hours = live_view.city_hourly(status(6))
    assert len(hours) == 24 and hours.index[0] == DAY
    first = hours.iloc[0]
    assert first["expected_kwh"] == pytest.approx(140.0)  # 100 + 4 × 10
    assert first["actual_kwh"] == pytest.approx(154.0)
    assert first["upper_kwh"] - first["expected_kwh"] == pytest.approx(np.sqrt(10**2 + 4 * 4**2))
    assert first["intervals"] == 5 and first["readings"] == 5
    assert hours["actual_kwh"].notna().sum() == 6 and np.isnan(hours.iloc[6]["actual_kwh"])


def test_an_hour_is_complete_only_when_every_meter_reported():
    frame = status(6)
    frame.loc[(frame["site_id"] == "s-b") & (frame["period_start"] == DAY + pd.Timedelta(hours=5, minutes=45)), "actual_kwh"] = np.nan
    hours = live_view.city_hourly(frame)
    assert np.isnan(hours.iloc[5]["actual_kwh"])
    assert hours.iloc[5]["read_actual_kwh"] == pytest.approx(110.0 + 3 * 11.0)  # like for like while incomplete
    assert hours.iloc[5]["read_expected_kwh"] == pytest.approx(130.0)


def test_site_summary_gives_the_latest_reading_today_so_far_and_unusual_counts():
    summary = live_view.site_summary(status(6, unusual_hour=5)).set_index("site_id")
    a, b = summary.loc["s-a"], summary.loc["s-b"]
    assert a["last_end"] == DAY + pd.Timedelta(hours=6) and b["last_end"] == DAY + pd.Timedelta(hours=6)
    assert a["last_actual_kwh"] == pytest.approx(500.0) and a["last_change"] == pytest.approx(4.0)
    assert bool(a["last_unusual"]) and a["unusual"] == 1 and b["unusual"] == 4
    assert a["change"] == pytest.approx((5 * 110.0 + 500.0) / 600.0 - 1)
    waiting = live_view.site_summary(status(0)).set_index("site_id")
    assert waiting["last_end"].isna().all() and not waiting["last_unusual"].any() and waiting["change"].isna().all()


def test_status_line_carries_the_last_reading_and_count_for_tests_to_read():
    line = live_view.status_html(status(6), META, "ko")
    assert 'data-readings="30"' in line and 'data-last-reading="2026-10-15T06:00:00"' in line
    assert "마지막 검침 06:00까지" in line and "검침 30건" in line and "갱신 15:00:02" in line  # 06:00 UTC is 15:00 KST
    assert "24:00" in live_view.status_html(status(24), META, "en")
    assert "No reading yet" in live_view.status_html(status(0), META, "en")


def test_sites_and_city_are_flagged_in_words_when_unusual():
    frame = status(6, unusual_hour=5)
    sites = live_view.sites_html(frame, "ko")
    flagged = re.search(r'<li class="live-site unusual" data-site-id="s-a"[^>]*>(.*?)</li>', sites).group(1)
    assert "⚠ 평소와 다름" in flagged and "+400.0%" in flagged and "하남산업단지" in flagged
    assert sites.count("평소와 다름") == 2  # both sites' latest hour
    assert "벗어났습니다" in live_view.city_html(frame, META, "ko")
    assert "outside the prediction interval" in live_view.city_html(status(6), META, "en")  # 154 > 140 + 12.8
    calm = live_view.city_html(status(6, ratio=1.05), META, "en")
    assert "inside the prediction interval" in calm and "+5.0%" in calm and "90%" in calm


def test_figure_has_alt_text_with_the_numbers_and_a_table():
    figure = live_view.day_figure_html(live_view.site_intervals(status(2, unusual_hour=1), "s-b"), title="광주광역시청",
                                       lang="ko", resolution="15min")
    alt = re.search(r'alt="([^"]*)"', figure).group(1)
    assert alt.startswith("광주광역시청: 00:00–02:00 실제 사용량 244 kWh") and "구간 4개" in alt
    assert figure.count("<tr>") == 1 + 96 and "kWh" in alt
    empty = live_view.day_figure_html(live_view.city_hourly(status(0)), title="광주", lang="en")
    assert "no reading yet" in re.search(r'alt="([^"]*)"', empty).group(1)


def test_a_figure_of_the_same_numbers_is_drawn_once(monkeypatch):
    drawn = []

    def figure_html(fig, alt, **_):
        plt.close(fig)
        drawn.append(alt)
        return alt

    monkeypatch.setattr(live_view.plots, "figure_html", figure_html)
    monkeypatch.setattr(live_view, "_FIGURES", {})
    first = live_view.city_figure_html(status(3), META, "ko")
    assert live_view.city_figure_html(status(3), META, "ko") == first and len(drawn) == 1
    assert live_view.city_figure_html(status(4), META, "ko") != first and len(drawn) == 2
    live_view.city_figure_html(status(3), META, "en")
    assert len(drawn) == 3


def test_choices_and_empty_message():
    assert live_view.site_choices(status(1), "en") == [("하남산업단지 (Industrial)", "s-a"), ("광주광역시청 (Public)", "s-b")]
    assert "make live" in live_view.empty_html("data/live", "ko") and 'data-testid="live-empty"' in live_view.empty_html("x", "en")


def test_follow_redraws_at_start_and_on_each_new_status_only(tmp_path):
    drawn = []

    async def scenario():
        task = asyncio.create_task(live_view.follow(tmp_path, lambda frame, meta: drawn.append((len(frame), meta)), every=0.01))
        await asyncio.sleep(0.05)
        live.write_status(tmp_path, status(1), META)
        await asyncio.sleep(0.05)
        live.write_status(tmp_path, status(2), {**META, "readings": 10})
        await asyncio.sleep(0.05)
        task.cancel()

    _run(scenario())
    assert [meta.get("readings") for _, meta in drawn] == [None, 0, 10]  # nothing yet, then two versions
    assert drawn[0][0] == 0 and drawn[1][0] == 24 + 96


def test_follow_skips_the_status_the_caller_drew(tmp_path):
    live.write_status(tmp_path, status(1), META)
    drawn = []

    async def scenario():
        stamp = live_view.status_stamp(tmp_path)
        task = asyncio.create_task(live_view.follow(tmp_path, lambda frame, meta: drawn.append(meta), every=0.01, drawn=stamp))
        await asyncio.sleep(0.05)
        assert drawn == []
        live.write_status(tmp_path, status(2), {**META, "readings": 10})
        await asyncio.sleep(0.05)
        task.cancel()

    _run(scenario())
    assert [meta["readings"] for meta in drawn] == [10]


def test_follow_survives_a_failing_redraw(tmp_path, caplog):
    calls = []

    def redraw(frame, meta):
        calls.append(meta)
        if len(calls) == 1:
            raise ValueError("bad status")

    async def scenario():
        task = asyncio.create_task(live_view.follow(tmp_path, redraw, every=0.01))
        await asyncio.sleep(0.05)
        live.write_status(tmp_path, status(1), META)
        await asyncio.sleep(0.05)
        task.cancel()

    _run(scenario())
    assert len(calls) == 2 and "bad status" in caplog.text


def test_the_city_total_takes_its_interval_from_the_status_where_given():
    frame = status(6)
    plain = live_view.city_hourly(frame)
    offsets = {"lower_offset": [-50.0] * 24, "upper_offset": [60.0] * 23 + [None]}
    hours = live_view.city_hourly(frame, {**META, "city_interval": offsets})
    np.testing.assert_allclose(hours["upper_kwh"], np.where(hours.index.hour == 23, plain["upper_kwh"], hours["expected_kwh"] + 60))
    np.testing.assert_allclose(hours["lower_kwh"], np.where(hours.index.hour == 23, plain["lower_kwh"],
                                                            np.maximum(hours["expected_kwh"] - 50, 0)))
