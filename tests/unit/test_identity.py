"""Keyed pseudonyms (HMAC-SHA256), the key ring and its derived keys, and re-keying."""

import os
import stat

import pandas as pd
import pyarrow as pa
import pytest

from energy_lib.core import identity, keys
from energy_lib.core.identity import pseudonyms


def test_pseudonyms_are_stable_distinct_and_keyed(monkeypatch):
    numbers = pd.Series(["0123456789", "0123456790", "0123456789"])
    provider = pd.Series(["kepco"] * 3)
    first = pseudonyms("meter", provider, pd.Series(["electricity"] * 3), numbers)
    assert first.iloc[0] == first.iloc[2] != first.iloc[1]
    assert first.str.match(r"^m-[0-9a-f]{20}$").all()
    assert not first.str.contains("0123456789").any()
    other_carrier = pseudonyms("meter", provider, pd.Series(["gas"] * 3), numbers)
    assert (first != other_carrier).all()
    assert (pseudonyms("site", provider, pd.Series(["electricity"] * 3), numbers).str[2:] != first.str[2:]).all()
    monkeypatch.setenv("ENERGY_SECRET_KEY", "ab" * 32)  # another key: other ids
    assert (pseudonyms("meter", provider, pd.Series(["electricity"] * 3), numbers) != first).all()


def test_pseudonyms_are_hmac_sha256_under_the_kinds_derived_key():
    import hashlib
    import hmac

    master = keys.ring()[0]
    expected = hmac.new(keys.derive("pseudonym:meter", master), b"kepco|electricity|0123456789", hashlib.sha256).hexdigest()
    got = pseudonyms("meter", pd.Series(["kepco"]), pd.Series(["electricity"]), pd.Series(["0123456789"]))
    assert got.iloc[0] == "m-" + expected[:20]
    assert pseudonyms("meter", pd.Series(["kepco", None])).isna().tolist() == [False, True]


def test_hkdf_matches_rfc_5869_test_case_1():
    ikm, salt = bytes.fromhex("0b" * 22), bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
           "34007208d5b887185865")
    assert keys.hkdf(ikm, info, 42, salt).hex() == okm
    master = bytes(range(32))
    assert len({keys.derive(p, master) for p in ("pseudonym:meter", "pseudonym:site", "codes:pepper")}) == 3


def test_missing_key_fails_closed_with_a_message_that_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("ENERGY_KEY_FILE", str(tmp_path / "none" / "secret.key"))
    with pytest.raises(keys.MissingKeyError, match="energy keys create"):
        pseudonyms("meter", pd.Series(["x"]))
    monkeypatch.delenv("ENERGY_KEY_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert keys.key_file() == tmp_path / "config" / "energy-workbook" / "secret.key"


def test_the_key_file_is_private_and_never_replaced(monkeypatch, tmp_path):
    path = tmp_path / "k" / "secret.key"
    monkeypatch.setenv("ENERGY_KEY_FILE", str(path))
    assert keys.ensure_key() == path and keys.ensure_key() is None  # the demo's rule: create once
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.create_key()
    assert path.read_bytes() == before and len(keys.ring()) == 1 and len(keys.ring()[0]) == 32
    os.chmod(path, 0o644)
    with pytest.raises(keys.InvalidKeyError, match="chmod 600"):
        keys.ring()
    monkeypatch.setenv("ENERGY_SECRET_KEY", "tooshort")
    with pytest.raises(keys.InvalidKeyError, match="too short|neither hex"):
        keys.ring()


def test_rekey_moves_ids_as_the_extended_ring_computes_them(monkeypatch):
    old, new = "11" * 32, "22" * 32
    numbers = pd.Series(["0123456789", "555", None])
    monkeypatch.setenv("ENERGY_SECRET_KEY", old)
    before = pseudonyms("meter", numbers)
    table = pa.table({"meter_id": pa.array(list(before) + ["AMI-005"], from_pandas=True), "value": [1, 2, 3, 4]})
    moved = identity.rekey(table, bytes.fromhex(new))
    monkeypatch.setenv("ENERGY_SECRET_KEY", f"{old}\n{new}")
    after = pseudonyms("meter", numbers)
    assert moved["meter_id"].to_pylist() == [after[0], after[1], None, "AMI-005"]  # others left alone
    assert after[0] != before[0]


def test_ids_looked_up_from_the_memo_equal_the_ids_hashed_afresh(monkeypatch):
    """A utility's second file gets its ids from the memo: the same ids as hashing every value,
    for customers seen before, new ones, repeats and missing numbers, also when the memo fills."""
    import numpy as np

    def fresh(provider, carrier, numbers):
        joined = pa.array((provider + "|" + carrier + "|" + numbers).array)
        return pd.Series(identity._apply(joined, "m-", identity._kind_keys("meter", keys.ring())), dtype="str")

    rng = np.random.default_rng(7)
    monkeypatch.setattr(identity, "_MEMO", identity._Memo())
    monkeypatch.setattr(identity, "_MEMO_MIN_ROWS", 50)
    for size in (2_000, 3_000, 50):  # the second call meets old and new customers, the third a full memo
        numbers = pd.Series([f"{n:010d}" for n in rng.integers(0, 4_000, size)], dtype="str")
        numbers.iloc[::97] = None
        provider, carrier = (pd.Series([v] * size, dtype="str") for v in ("kepco", "electricity"))
        got = pseudonyms("meter", provider, carrier, numbers)
        pd.testing.assert_series_equal(got, fresh(provider, carrier, numbers), check_names=False)
        assert got.isna().sum() == numbers.isna().sum()
        if size == 3_000:  # the memo is full: the next new customer starts it again
            monkeypatch.setattr(identity, "_MEMO_ROWS", identity._MEMO._rows)
    assert identity._MEMO._rows <= 50  # it did start again
    gas = pseudonyms("meter", provider, pd.Series(["gas"] * 50, dtype="str"), numbers)
    assert not (gas.dropna() == got.dropna()).any()  # another carrier is another group of the memo
    remembered = identity._MEMO._rows
    pseudonyms("meter", provider[:49], carrier[:49], pd.Series([f"{n:09d}x" for n in range(49)], dtype="str"))
    assert identity._MEMO._rows == remembered  # a few numbers (an app's household) are not remembered
