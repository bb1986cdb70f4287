import pandas as pd

from energy_lib.identity import pseudonyms


def test_pseudonyms_are_stable_distinct_and_salted(monkeypatch):
    numbers = pd.Series(["0123456789", "0123456790", "0123456789"])
    provider = pd.Series(["kepco"] * 3)
    first = pseudonyms("meter", provider, pd.Series(["electricity"] * 3), numbers)
    assert first.iloc[0] == first.iloc[2] != first.iloc[1]
    assert first.str.match(r"^m-[0-9a-f]{20}$").all()
    assert not first.str.contains("0123456789").any()
    other_carrier = pseudonyms("meter", provider, pd.Series(["gas"] * 3), numbers)
    assert (first != other_carrier).all()
    monkeypatch.setenv("ENERGY_PSEUDONYM_SALT", "a-secret-for-production")
    assert (pseudonyms("meter", provider, pd.Series(["electricity"] * 3), numbers) != first).all()
