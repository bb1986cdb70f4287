"""What a reader sees where figures are withheld: why, and the nearest published level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_lib import charts, i18n


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
