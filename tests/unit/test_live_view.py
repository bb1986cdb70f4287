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

from energy_lib.apps import live_view
from energy_lib.realtime import live


def _run(coroutine) -> None:
    """Run ``coroutine`` on its own event loop in another thread: a test session that drives a
    browser with Playwright's sync API already runs an event loop in this thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()

DAY = pd.Timestamp("2026-10-15")


def status(hours_read: int, *, unusual_hour: int | None = None, ratio: float = 1.1,
           public: tuple[str, ...] = ("s-a", "s-b")) -> pd.DataFrame:
    """A live day: an hourly site expecting 100 kWh ± 10 per hour, and a 15-minute site expecting
    10 kWh ± 4 per quarter; both read for the first ``hours_read`` hours, at ``ratio`` × expected, and
    five times the expected load in ``unusual_hour`` (flagged). The sites of ``public`` may be shown
    by name (both by default: the sums below are then of every site); the others have no name, as
    the watcher writes them."""
    rows = []
    for site, step, expected, half in (("s-a", 60, 100.0, 10.0), ("s-b", 15, 10.0, 4.0)):
        for start in pd.date_range(DAY, DAY + pd.Timedelta(days=1), freq=f"{step}min", inclusive="left"):
            read = start.hour < hours_read
            actual = expected * (5.0 if start.hour == unusual_hour else ratio) if read else np.nan
            rows.append(dict(site_id=site, meter_id=f"m-{site}",
                             site_name={"s-a": "하남산업단지", "s-b": "광주광역시청"}[site] if site in public else None,
                             building_type={"s-a": "industrial", "s-b": "public"}[site], series_public=site in public,
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
    # in the order of the names, whatever the pseudonyms (they change with the key)
    assert live_view.site_choices(status(1), "en") == [("광주광역시청 (Public)", "s-b"), ("하남산업단지 (Industrial)", "s-a")]
    renamed = status(1).replace({"site_id": {"s-a": "s-0", "s-b": "s-z"}})  # ids now in the other order
    assert [label for label, _ in live_view.site_choices(renamed, "en")] == ["광주광역시청 (Public)", "하남산업단지 (Industrial)"]
    # citizens see words, never the operator's commands or the server's folders
    for lang in ("ko", "en"):
        empty = live_view.empty_html(lang)
        assert 'data-testid="live-empty"' in empty and "make" not in empty and "energy watch" not in empty and "/" not in empty.replace("</", "")


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


def _private_sites(n: int, *, dominant: float = 1.0) -> pd.DataFrame:
    """``n`` private hourly sites, all read for the first 6 hours, each expecting 10 kWh per hour
    (the first ``dominant`` times that), without names as the watcher writes them."""
    rows = []
    for i in range(n):
        expected = 10.0 * (dominant if i == 0 else 1.0)
        for start in pd.date_range(DAY, periods=24, freq="h"):
            read = start.hour < 6
            rows.append(dict(site_id=f"p-{i:02d}", meter_id=f"m-p-{i:02d}", site_name=None, building_type="apartment",
                             series_public=False, ward_code="2920063700", period_start=start,
                             period_end=start + pd.Timedelta(hours=1), resolution="hourly",
                             actual_kwh=expected if read else np.nan, expected_kwh=expected, lower_kwh=expected - 2,
                             upper_kwh=expected + 2, unusual=False))
    return pd.DataFrame(rows)


def test_only_sites_whose_series_is_public_are_shown_by_name_and_one_by_one():
    frame = status(6, unusual_hour=5, public=("s-b",))
    assert live_view.site_choices(frame, "ko") == [("광주광역시청 (공공)", "s-b")]
    for lang in ("ko", "en"):
        page = live_view.sites_html(frame, lang) + live_view.city_html(frame, META, lang)
        assert "하남산업단지" not in page and 's-a"' not in page and "<NA>" not in page and "None" not in page
    assert 'data-site-id="s-b"' in live_view.sites_html(frame, "ko")
    assert "민간 건물 1곳" in live_view.sites_html(frame, "ko")
    refused = live_view.site_figure_html(frame, "s-a", "ko")
    assert "<img" not in refused and "공개가 허용되지 않아" in refused


def test_too_few_private_sites_are_withheld_in_words_and_the_total_is_of_the_public_ones():
    frame = status(6, public=("s-b",))
    shown = live_view.published(frame)
    assert (shown.private_sites, shown.private_shown, shown.reason) == (1, False, "too_few_customers")
    hours = live_view.published_hourly(frame, META, shown)
    assert hours["expected_kwh"].iloc[0] == pytest.approx(40.0)  # the 15-minute public site alone, not 140
    city = live_view.city_html(frame, META, "ko")
    assert city.index("민간 건물 1곳의 사용량은 합계로도 공개하지 않습니다") < city.index("오늘 지금까지")
    assert "15곳 이상" in city and "공개 건물 실시간 합계" in city
    assert "fewer" not in city and "withheld, even as a total" in live_view.city_html(frame, META, "en")
    # the page of the demo's seven sites: two public, five private (two industrial complexes, three apartment complexes)
    seven = pd.concat([status(6, public=("s-b",)), _private_sites(4)], ignore_index=True)
    assert live_view.published(seven).private_sites == 5 and not live_view.published(seven).private_shown


def test_no_public_site_and_a_withheld_aggregate_say_so_instead_of_an_empty_chart():
    frame = status(6, public=())
    figure = live_view.city_figure_html(frame, META, "ko")
    assert "<img" not in figure and "공개하지 않습니다" in figure
    assert "건물별로 공개할 수 있는 건물이 아직 없습니다" in live_view.sites_html(frame, "ko")
    assert live_view.site_choices(frame, "ko") == []


def test_an_aggregate_that_passes_the_rule_is_shown_and_a_dominant_site_withholds_it():
    rule = live_view.SuppressionRule(min_customers=15, max_share=0.15)
    many = pd.concat([status(6), _private_sites(15)], ignore_index=True)  # two public sites, 15 equal private ones
    shown = live_view.published(many, rule)
    assert shown.private_shown and shown.total_frame_is_all and shown.private_sites == 15
    assert live_view.published_hourly(many, META, shown)["expected_kwh"].iloc[0] == pytest.approx(100 + 40 + 150)
    assert "합계로도 공개하지 않습니다" not in live_view.city_html(many, META, "ko")
    assert "광주 전체 실시간 합계" in live_view.city_html(many, META, "ko")
    # one private site of 40 kWh an hour among 14 of 10: 40 of 180 (22%) > 15%
    dominant = pd.concat([status(6), _private_sites(15, dominant=4.0)], ignore_index=True)
    assert live_view.published(dominant, rule).reason == "dominant_customer"
    assert "15%를 넘는 시간" in live_view.city_html(dominant, META, "ko")
    # the industrial site (100 kWh an hour) private too: it dominates the private total
    assert live_view.published(pd.concat([status(6, public=("s-b",)), _private_sites(15)]), rule).reason == \
        "dominant_customer"
