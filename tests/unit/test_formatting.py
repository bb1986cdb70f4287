"""Numbers, months and tables in the page's language through Babel; a withheld value is a word."""

import numpy as np
import pandas as pd
import pytest

from energy_lib.core import formatting, i18n


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT, float("nan")])
def test_a_missing_value_is_the_word_for_withheld(missing):
    assert formatting.number(missing, "ko") == "비공개"
    assert formatting.percent(missing, "en") == "suppressed"
    assert formatting.quantity(missing, "en", "kWh") == "suppressed"


def test_numbers_and_percentages_follow_the_locale():
    assert formatting.number(1234.5, "ko", 1) == "1,234.5" and formatting.number(1234.5, "en") == "1,234"
    assert formatting.percent(0.247, "ko") == "24.7%"  # not 0.2 %
    assert formatting.percent(0.034, "en", 1, signed=True) == "+3.4%" and formatting.percent(-0.034, "en", 1, signed=True) == "-3.4%"


def test_energy_scales_to_the_unit_a_reader_expects():
    assert formatting.quantity(512, "ko", "kWh") == "512 kWh"
    assert formatting.quantity(12_345_678, "en", "kWh") == "12.3 GWh"
    assert formatting.quantity(139_149_467, "ko", "kWh") == "139 GWh"
    assert formatting.scale_for([1.0e3, 2.5e6], "kWh") == formatting.Scale(1.0e6, "GWh")
    assert formatting.scale_for([np.nan], "kWh") == formatting.Scale(1.0, "kWh")
    assert formatting.scale_for([5_000.0], "toe") == formatting.Scale(1.0, "toe")  # no ladder: as it is


def test_months_and_years_in_each_language():
    assert formatting.month("2024-01", "ko") == "2024년 1월" and formatting.month("2024-01", "en") == "Jan 2024"
    assert formatting.year(2025, "ko") == "2025년" and formatting.year(2025, "en") == "2025"


def test_a_table_is_text_with_no_nan_or_na():
    frame = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [0.5, np.nan], "c": ["x", None]},
                         index=["가", "나"])
    shown = formatting.table(frame, "ko", {"b": 1})
    assert shown.loc["가"].tolist() == ["1", "0.5", "x"]
    assert shown.loc["나"].tolist() == ["비공개"] * 3
    html = shown.to_html()
    assert "NaN" not in html and "&lt;NA&gt;" not in html and "None" not in html


def test_i18n_number_uses_babel():
    assert i18n.number(0.034, "ko", 1, percent=True) == "+3.4%"
    assert i18n.number(float("nan"), "en") == "suppressed"


def test_a_table_shows_no_code_names_as_headers():
    frame = pd.DataFrame({"electricity": [1.0]}, index=pd.Index(["서구"], name="area"))
    frame.columns.name = "carrier"
    html = formatting.table(frame, "ko").to_html()
    assert "area" not in html and "carrier" not in html
    named = pd.DataFrame({"x": [1.0]}, index=pd.Index(["2024년 1월"], name="월"))
    assert formatting.table(named, "ko").index.name == "월"
