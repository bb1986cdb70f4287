"""What a reader sees where figures are withheld: why, and the nearest published level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_lib.core import i18n
from energy_lib.publish import charts


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_dong_points_to_its_gu_and_a_gu_to_the_city(lang):
    dong = charts.withheld("2914074500", lang).html
    assert 'href="../gu/29140.html"' in dong and i18n.area_name("29140", lang) in dong
    assert i18n.text("withheld.why", lang)[:20] in dong
    gu = charts.withheld("29140", lang).html
    assert 'href="../city.html"' in gu and i18n.area_name("city", lang) in gu


def test_a_chart_of_withheld_numbers_is_replaced_by_the_explanation():
    points = pd.DataFrame({"half_year": ["2025H1", "2025H2"], "meters": [np.nan, np.nan], "tier_1": [np.nan] * 2,
                           "tier_2": [np.nan] * 2, "tier_3": [np.nan] * 2})
    assert isinstance(charts.tier_bars(points, lang="ko", area="2914074500"), charts.Withheld)
    assert isinstance(charts.tier_bars(points.iloc[:0], lang="en", area="2914074500"), charts.Withheld)
    shown = points.assign(meters=[20.0, 21.0], tier_1=[3.0, 4.0], tier_2=[1.0, 0.0], tier_3=[0.0, 1.0])
    assert isinstance(charts.tier_bars(shown, lang="ko", area="2914074500"), charts.Chart)


def test_savings_of_a_withheld_dong_are_explained_not_drawn_without_it():
    rows = pd.DataFrame({"area": ["2914074500", "city"], "name": ["치평동", "광주"], "savings": [np.nan, 5.0e5],
                         "band": [np.nan, 1.0e5], "meters": [pd.NA, 9000]})
    assert isinstance(charts.intervals(rows, lang="ko", label="절감", unit="MWh", alt_key="report.savings_alt",
                                       scale=1000, area="2914074500"), charts.Withheld)


def test_a_carbon_point_chart_whose_tiers_are_all_withheld_is_explained_not_drawn_empty():
    points = pd.DataFrame({"half_year": ["2025H1", "2025H2"], "meters": [40.0, 41.0], "tier_1": [np.nan] * 2,
                           "tier_2": [np.nan] * 2, "tier_3": [np.nan] * 2})
    assert isinstance(charts.tier_bars(points, lang="ko", area="2914074500"), charts.Withheld)


def test_a_total_over_carriers_is_never_drawn_from_the_published_carriers_alone():
    import matplotlib.pyplot as plt

    totals = pd.DataFrame({"electricity": [10.0, 7.0], "gas": [5.0, np.nan], "heat": [0.0, 0.0],
                           "total": [15.0, np.nan], "withheld": ["", "gas"]}, index=["아파트", "공공"])
    chart = charts.carrier_bars(totals, lang="ko", unit="toe", alt_key="report.building_alt")
    assert "아파트 15" in chart.alt and "공공: 합계 없음(도시가스 비공개) (전기 7)" in chart.alt
    assert chart.table.loc["공공", "합계 [toe]"] == "비공개" and chart.table.loc["공공", "전기 [toe]"] == "7"
    plt.close(chart.figure)
    nothing = totals.assign(electricity=np.nan, gas=np.nan, total=np.nan)
    assert isinstance(charts.carrier_bars(nothing, lang="en", unit="toe", alt_key="report.building_alt",
                                          area="2914074500"), charts.Withheld)
    zero_or_withheld = totals.assign(electricity=np.nan, gas=[0.0, np.nan], total=np.nan)  # nothing to draw
    assert isinstance(charts.carrier_bars(zero_or_withheld, lang="ko", unit="toe", alt_key="report.building_alt"),
                      charts.Withheld)


def test_savings_in_different_units_never_share_an_axis():
    import matplotlib.pyplot as plt

    rows = pd.DataFrame({"area": "city", "name": ["전기", "도시가스"], "savings": [2.0e6, 3.0e3], "band": [1.0e6, 1.0e3],
                         "meters": [900, 800], "unit": ["kWh", "m³"]})
    chart = charts.intervals(rows, lang="ko", label="절감량", alt_key="report.savings_alt")
    labels = [ax.get_xlabel() for ax in chart.figure.axes]
    assert labels == ["절감량 [GWh]", "절감량 [1,000 m³]"]
    assert "kWh · m³" not in chart.alt and "전기 2.0 ± 1.0 GWh" in chart.alt
    plt.close(chart.figure)


def test_a_distribution_of_nothing_published_says_so_and_its_table_is_no_describe():
    import matplotlib.pyplot as plt

    empty = charts.distribution(pd.Series([np.nan, np.nan]), lang="ko", unit="kWh/m²", alt_key="report.distribution_alt",
                                name="면적당 사용량")
    assert isinstance(empty, charts.Withheld) and 'href="../city.html"' in empty.html
    chart = charts.distribution(pd.Series([1.0, 2.0, 3.0, np.nan]), lang="en", unit="kWh/m²",
                                alt_key="report.distribution_alt", name="Use per floor area")
    assert list(chart.table.index) == ["Published dongs", "Lowest", "Lower quartile", "Median", "Upper quartile", "Highest"]
    assert "std" not in chart.table.to_html() and "1 dongs withheld" in chart.alt
    plt.close(chart.figure)


def test_a_monthly_chart_with_no_published_month_is_explained_not_drawn():
    series = pd.DataFrame({"electricity": [np.nan, np.nan]}, index=["2025-01", "2025-02"])
    annual = pd.DataFrame({"recent": [np.nan], "change": [np.nan]}, index=["electricity"])
    units = pd.Series({"electricity": "kWh"})
    assert isinstance(charts.monthly_by_carrier(series, units, annual, lang="ko"), charts.Withheld)
    assert 'href="../gu/29140.html"' in charts.monthly_by_carrier(series, units, annual, lang="en", area="2914074500").html


def test_bars_of_nothing_but_withheld_values_are_explained_not_drawn():
    values = pd.Series([np.nan, np.nan], index=["동구", "서구"])
    assert 'href="../gu/29140.html"' in charts.labelled_bars(values, lang="ko", unit="kWh", alt="x", area="2914074500").html
    assert 'href="../city.html"' in charts.labelled_bars(values, lang="en", unit="kWh", alt="x").html
