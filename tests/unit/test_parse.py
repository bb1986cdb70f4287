import numpy as np
import pyarrow as pa
import pytest

from energy_lib.ingest import parse


@pytest.mark.parametrize("text", ["202301", "2023-01", "2023.01", "2023/1", "2023년 1월", "2023. 1.", " 2023년1월 "])
def test_month_forms(text):
    values, ok = parse.parse_month(pa.array([text]))
    assert ok[0] and values[0] == np.datetime64("2023-01-01")


@pytest.mark.parametrize("text", ["2023-13", "20231", "Jan 2023", "", "2023-00"])
def test_month_rejects(text):
    _, ok = parse.parse_month(pa.array([text]))
    assert not ok[0]


@pytest.mark.parametrize("text", ["20230115", "2023-01-15", "2023.01.15", "2023. 1. 15.", "2023년 1월 15일",
                                  "2023/01/15", "2023-01-15 00:00:00"])
def test_date_forms(text):
    values, ok = parse.parse_date(pa.array([text]))
    assert ok[0] and values[0] == np.datetime64("2023-01-15")


@pytest.mark.parametrize("text", ["2023-02-30", "2023-01-15 13:00", "15/01/2023"])
def test_date_rejects(text):
    assert not parse.parse_date(pa.array([text]))[1][0]


def test_datetimes_convert_offsets_to_kst_and_read_24_00():
    values, ok = parse.parse_datetime(pa.array(["2023-01-15 13:00", "2023-01-15T13:00:00+09:00",
                                                "2023-01-15T04:00:00Z", "2023-01-15 24:00", "20230115 0115"]))
    assert ok.all()
    assert values.tolist() == [np.datetime64("2023-01-15T13:00:00.000000").astype(object)] * 3 + [
        np.datetime64("2023-01-16T00:00").astype("datetime64[us]").astype(object),
        np.datetime64("2023-01-15T01:15").astype("datetime64[us]").astype(object)]


def test_numbers_with_separators_signs_and_full_width_digits():
    values, ok = parse.parse_number(pa.array(["1,234.5", "-3", "−5", "１２３", ".5", "1,234,567", "12,34", "abc", ""]))
    assert ok.tolist() == [True] * 6 + [False] * 3
    np.testing.assert_allclose(values[:6], [1234.5, -3, -5, 123, 0.5, 1_234_567])


def test_dictionary_route_gives_the_same_answer_as_direct_parsing():
    text = np.random.default_rng(1).choice(["2023-01-15", "2023.02.28", "2024년 2월 29일", "bad"], 10_000)
    values, ok = parse.parse_date(pa.array(text))
    for form in np.unique(text):
        direct_values, direct_ok = parse.parse_date(pa.array([form]))
        assert (ok[text == form] == direct_ok[0]).all()
        if direct_ok[0]:
            assert (values[text == form] == direct_values[0]).all()
