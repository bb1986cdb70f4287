"""The "my savings" household lookup: codes, index, lookup, slowdown, peers, timing."""

from __future__ import annotations

import dataclasses
import html

import numpy as np
import pandas as pd
import pytest

from energy_lib.apps import household, my_savings, peers
from energy_lib.apps.household import Lookup, Refused, ThrottleSettings
from energy_lib.core import personal_codes
from tests.conftest import HOUSEHOLD_SECRET as SECRET
from tests.conftest import code_cost


class Clock:
    """A clock the test moves by hand [s]."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def city(household_index) -> dict:
    """The demo's accounts, codes, index (written to Parquet) and derived tables."""
    return household_index


def lookup(city, tmp_path, **options) -> Lookup:
    return Lookup(city["path"], throttle_path=tmp_path / "attempts.sqlite", **options)


def test_codes_are_deterministic_unambiguous_and_hashes_agree():
    accounts = pd.Series(["1203004517", "6100000003", "1203004517"])
    codes = personal_codes.issue_codes(accounts, SECRET)
    assert codes.equals(personal_codes.issue_codes(accounts, SECRET))
    assert codes[0] == codes[2] and codes[0] != codes[1]
    assert not codes.equals(personal_codes.issue_codes(accounts, b"another secret key of 32 bytes.."))
    plain = codes.map(personal_codes.normalise_code)
    assert all(len(c) == personal_codes.CODE_LENGTH and set(c) <= set(personal_codes.CODE_ALPHABET) for c in plain)
    assert codes[0] == "-".join(plain[0][i:i + 4] for i in range(0, 12, 4))  # shown in groups of four
    typed = plain[0].lower()[:5] + " " + plain[0].lower()[5:]
    assert personal_codes.verify_code(typed, personal_codes.code_hash(codes[0], settings=code_cost()))
    hashed = personal_codes.code_hashes(codes, settings=code_cost())
    assert all(personal_codes.verify_code(c, h) for c, h in zip(codes, hashed))
    assert not personal_codes.verify_code(codes[1], hashed[0])


def test_code_hash_is_scrypt_with_a_salt_per_code_and_the_keyed_pepper(monkeypatch):
    """scrypt (RFC 7914) of HMAC(pepper, code) with a fresh random salt each time: the same code
    hashes differently twice, the parameters travel with the hash, and another key cannot verify it."""
    import base64
    import hashlib
    import hmac

    from energy_lib.core import keys

    cost = code_cost()
    first, second = personal_codes.code_hash("ABCD-EFGH-JKMN", settings=cost), personal_codes.code_hash("abcdefghjkmn", settings=cost)
    assert first != second  # per-code salt
    scheme, position, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", cost.n, cost.r, cost.p)
    assert len(base64.b64decode(salt)) == cost.salt_bytes == 16
    pepper = hmac.digest(keys.derive("codes:pepper", keys.ring()[int(position)]), b"ABCDEFGHJKMN", "sha256")
    expected = hashlib.scrypt(pepper, salt=base64.b64decode(salt), n=cost.n, r=cost.r, p=cost.p, dklen=32)
    assert base64.b64decode(digest) == expected
    assert personal_codes.verify_code("abcd efgh jkmn", second)
    monkeypatch.setenv("ENERGY_SECRET_KEY", "11" * 32)  # another key: the stolen index is useless
    assert not personal_codes.verify_code("ABCD-EFGH-JKMN", first)
    configured = personal_codes.CodeHashSettings.configured()
    assert configured.n >= 2**12 and configured.r == 8 and configured.p == 1


def test_index_never_holds_codes_or_customer_numbers(city):
    index = city["index"]
    text = index.astype(str).to_numpy().ravel()
    cells = set(text)
    assert not cells & set(city["codes"]) and not cells & set(city["accounts"])
    assert not cells & set(city["codes"].map(personal_codes.normalise_code))
    assert index["meter_id"].is_unique and index["code_hash"].str.startswith("scrypt$").all()


def test_correct_code_shows_that_households_numbers(city, tmp_path):
    found = lookup(city, tmp_path)
    savings = city["derived"].sql("SELECT * FROM savings WHERE analysis = 'annual' AND method = 'caltrack_billing'")
    carbon = city["derived"].sql("SELECT * FROM carbon_point")
    checked = 0
    for i in range(0, len(city["accounts"]), 37):
        account, code = city["accounts"][i], city["codes"][i]
        meter_id = household.customer_pseudonym(pd.Series([account])).iloc[0]
        view = found.find(account, code, client=f"s{i}")
        if meter_id not in set(city["index"]["meter_id"]):  # not a household site (none in the demo)
            assert isinstance(view, Refused)
            continue
        assert not isinstance(view, Refused)
        electricity = next(c for c in view.carriers if c.carrier == "electricity")
        mine = savings[savings["meter_id"] == meter_id]
        if len(mine) and pd.notna(mine["savings"].iloc[0]):
            assert electricity.savings == pytest.approx(mine["savings"].iloc[0])
            assert electricity.savings_won == pytest.approx(mine["savings_won"].iloc[0])
        # a complete half-year in the table agrees with the rule applied to the same months
        if view.half_year in set(carbon["half_year"]):
            row = carbon[(carbon["meter_id"] == meter_id) & (carbon["half_year"] == view.half_year)]
            if len(row) and row["status"].iloc[0] == "qualified":
                assert electricity.cp_tier == row["tier"].iloc[0]
        assert view.judgement in (*peers.JUDGEMENTS, None)
        checked += 1
    assert checked >= 10


def test_unknown_customer_and_wrong_code_are_refused_alike(city, tmp_path):
    found = lookup(city, tmp_path)
    wrong = found.find(city["accounts"][0], "AAAAAAAA", client="a")
    unknown = found.find("9999999999", city["codes"][0], client="b")
    assert wrong == unknown == household._NOT_FOUND
    assert isinstance(found.find(city["accounts"][0], city["codes"][1], client="c"), Refused)


def test_repeated_failures_slow_down_the_client_on_that_account(city, tmp_path):
    clock = Clock()
    found = lookup(city, tmp_path, clock=clock, settings=ThrottleSettings(max_failures=3, base_delay_s=30.0))
    account, code = city["accounts"][5], city["codes"][5]
    for _ in range(3):
        assert found.find(account, "WRONG", client="x").reason == "not_found"
    slowed = found.find(account, code, client="x")  # even the right code waits
    assert slowed.reason == "slowed_down" and slowed.retry_after_s == pytest.approx(30.0)
    clock.now += 31
    assert found.find(account, "WRONG", client="x").reason == "not_found"
    assert found.find(account, code, client="x").retry_after_s == pytest.approx(60.0)  # doubled
    clock.now += 61
    assert not isinstance(found.find(account, code, client="x"), Refused)
    assert found.find(account, "WRONG", client="x").reason == "not_found"  # success forgot the failures:
    assert not isinstance(found.find(account, code, client="x"), Refused)  # one more is not a fourth


def test_a_stranger_cannot_lock_a_neighbour_out_even_across_reloads_and_restarts(city, tmp_path):
    """Someone who knows a neighbour's customer number guesses codes from their own browser: they
    are slowed down, the neighbour (another client) still gets in. Reloading the page (the same
    client key) or restarting the server (a new Lookup on the same file) does not start over."""
    clock = Clock()
    found = lookup(city, tmp_path, clock=clock)
    account, code = city["accounts"][8], city["codes"][8]
    for _ in range(ThrottleSettings().max_failures):
        assert found.find(account, "WRONG", client="stranger").reason == "not_found"
    assert found.find(account, code, client="stranger").reason == "slowed_down"
    owner = found.find(account, code, client="owner")
    assert not isinstance(owner, Refused) and owner.ward_code
    restarted = lookup(city, tmp_path, clock=clock)
    assert restarted.find(account, code, client="stranger").reason == "slowed_down"
    assert not isinstance(restarted.find(account, code, client="owner"), Refused)
    # a second process sees the same failures through the shared file
    other = lookup(city, tmp_path, clock=clock)
    for _ in range(3):
        other.find(city["accounts"][7], "WRONG", client="z")
    assert found.find(city["accounts"][7], city["codes"][7], client="z").reason == "slowed_down"


def test_one_client_trying_many_households_is_slowed_for_all_of_them(city, tmp_path):
    clock = Clock()
    settings = ThrottleSettings(client_max_failures=4)
    found = lookup(city, tmp_path, clock=clock, settings=settings)
    for i in range(4):  # one guess each: no account's own count is reached
        assert found.find(city["accounts"][10 + i], "WRONG", client="scanner").reason == "not_found"
    assert found.find(city["accounts"][20], city["codes"][20], client="scanner").reason == "slowed_down"
    assert not isinstance(found.find(city["accounts"][20], city["codes"][20], client="owner"), Refused)
    assert not isinstance(found.find(city["accounts"][10], city["codes"][10], client="owner"), Refused)


def test_only_many_clients_together_reach_the_accounts_ceiling(city, tmp_path):
    """The trade-off of ThrottleSettings: a guess spread over many clients slows the account for
    everybody, its owner included, but only past a ceiling that no single person reaches."""
    clock = Clock()
    found = lookup(city, tmp_path, clock=clock, settings=ThrottleSettings(account_max_failures=6))
    account, code = city["accounts"][9], city["codes"][9]
    for client, failures in (("a", 3), ("b", 2)):
        for _ in range(failures):
            assert found.find(account, "WRONG", client=client).reason == "not_found"
    assert not isinstance(found.find(account, code, client="owner"), Refused)  # 5 failures: below the ceiling
    assert found.find(account, "WRONG", client="c").reason == "not_found"  # the 6th, from a third client
    refused = found.find(account, code, client="owner")
    assert refused.reason == "slowed_down" and refused.retry_after_s == pytest.approx(30.0)
    clock.now += 31
    assert not isinstance(found.find(account, code, client="owner"), Refused)


def test_the_attempts_file_keeps_no_client_key_or_customer_number(city, tmp_path):
    found = lookup(city, tmp_path)
    found.find(city["accounts"][3], "WRONG", client="client-key-in-clear")
    stored = (tmp_path / "attempts.sqlite").read_bytes()
    assert b"client-key-in-clear" not in stored and city["accounts"][3].encode() not in stored
    with pytest.raises(ValueError, match="client"):
        found.find(city["accounts"][3], "WRONG", client=" ")


def test_peer_groups_have_at_least_the_rules_minimum_of_households(city):
    index = city["index"]
    compared = index[index["peer_level"].notna()]
    assert (compared["peer_households"] >= peers.PeerSettings.configured().min_households).all()
    assert index["peer_typical_kgco2eq"].notna().sum() > len(index) / 2
    assert set(index["peer_level"].dropna()) <= {"dong", "neighbours", "gu", "city", "city_type"}
    assert index.loc[index["peer_level"].isna(), "peer_typical_kgco2eq"].isna().all()


def test_judgements_follow_the_peer_figures(city):
    index = city["index"].dropna(subset=["judgement"])
    assert set(index["judgement"]) == set(peers.JUDGEMENTS)
    great = index["judgement"] == "great"
    good = index["judgement"] == "good"
    assert (index.loc[great, "kgco2eq_12m"] <= index.loc[great, "peer_efficient_kgco2eq"]).all()
    assert (index.loc[good, "kgco2eq_12m"] <= index.loc[good, "peer_typical_kgco2eq"]).all()
    assert (index.loc[~great & ~good, "kgco2eq_12m"] > index.loc[~great & ~good, "peer_typical_kgco2eq"]).all()


def test_no_peer_figure_equals_a_households_value_in_the_demo_city(city, published):
    """Every published group's members found again from the index: no figure is one of their values."""
    settings = peers.PeerSettings.configured()
    index = city["index"].copy()
    figures = {}
    for c in household.CARRIERS:
        index[f"{c}_compared"] = index[f"{c}_use_12m"].where(index[f"{c}_bills_12m"] >= settings.months)
        figures[f"{c}_compared"] = {"typical": f"{c}_peer_typical", "efficient": f"{c}_peer_efficient"}
    figures["kgco2eq_12m"] = {"typical": "peer_typical_kgco2eq", "efficient": "peer_efficient_kgco2eq"}
    pairs = household._neighbourhoods(published["store"], settings.neighbours)
    found = peers.exposures(index, pairs, figures)
    assert found["groups"].gt(0).all()  # every carrier and figure has published groups to check
    assert found["exposed"].sum() == 0, found
    # the figures are rounded to the configured significant digits
    shown = index["peer_typical_kgco2eq"].dropna()
    rounded, _ = peers.round_significant(shown, settings.significant_digits)
    assert np.allclose(shown, rounded)


def test_page_says_why_there_is_no_comparison(city, tmp_path):
    found = lookup(city, tmp_path)
    index = city["index"].set_index("meter_id")
    pages = {}
    for i in range(len(city["accounts"])):
        meter_id = household.customer_pseudonym(pd.Series([city["accounts"][i]])).iloc[0]
        if meter_id not in index.index:
            continue
        row = index.loc[meter_id]
        kind = "compared" if pd.notna(row["judgement"]) else "incomplete" if pd.isna(row["kgco2eq_12m"]) else None
        if kind and kind not in pages:
            pages[kind] = my_savings.view_html(found.find(city["accounts"][i], city["codes"][i], client=f"p{i}"), "ko")
        if len(pages) == 2:
            break
    assert "보통 이웃" in pages["compared"] and "효율적인 이웃" in pages["compared"] and "유효숫자 2자리" in pages["compared"]
    assert "12개월 고지서가 모두 있어야" in pages["incomplete"] and "<NA>" not in pages["incomplete"]
    view = found.find(city["accounts"][0], city["codes"][0], client="w")
    alone = dataclasses.replace(view, judgement=None, peer_households=None, kgco2eq_12m=1000.0)
    for lang, words in (("ko", "15가구보다 적어"), ("en", "fewer than 15 similar households")):
        assert words in my_savings.view_html(alone, lang)


def test_the_index_says_which_savings_are_not_to_be_trusted_and_why(city):
    """A household's savings note follows its meter's row of the derived ``savings`` table and its
    most severe baseline warning the ``warnings`` table."""
    derived = city["derived"]
    savings = derived.sql("SELECT meter_id, sufficiency, programme_in_baseline FROM savings "
                          "WHERE analysis = 'annual' AND method = 'caltrack_billing'").set_index("meter_id")
    warnings = derived.sql("SELECT meter_id, code, severity FROM warnings WHERE analysis = 'annual' "
                           "AND method = 'caltrack_billing'")
    index = city["index"].set_index("meter_id")
    mine = index.join(savings, how="inner")
    assert len(mine) > 100
    expected = np.where(mine["sufficiency"] != "pass", "insufficient",
                        np.where(mine["programme_in_baseline"], "programme_in_baseline", None))
    assert list(mine["electricity_savings_note"].fillna("none")) == list(pd.Series(expected).fillna("none"))
    assert (mine["electricity_savings_note"] == "insufficient").sum() >= 1  # the demo leaves some baselines short
    errors = warnings[warnings["severity"] == "error"].groupby("meter_id")["code"].min()
    short = mine[mine["electricity_savings_note"] == "insufficient"]
    assert (short["electricity_savings_warning"] == errors.reindex(short.index)).all()


def test_the_page_withholds_a_saving_on_a_short_baseline_and_says_why(city, tmp_path):
    view = lookup(city, tmp_path).find(city["accounts"][0], city["codes"][0], client="n")
    electricity = next(c for c in view.carriers if c.carrier == "electricity")
    short = dataclasses.replace(electricity, savings=1234.0, band=50.0, savings_note="insufficient",
                                savings_warning="too_many_days_with_missing_meter_data")
    page = my_savings.view_html(dataclasses.replace(view, carriers=(short,)), "ko")
    assert "절감량을 보여 드리지 않습니다" in page and "사용량을 읽은 날이 90%보다 적습니다" in page
    assert "1,234" not in page
    english = html.unescape(my_savings.view_html(dataclasses.replace(view, carriers=(short,)), "en"))
    assert "fewer than 90% of the baseline's days have readings" in english and "1,234" not in english
    early = dataclasses.replace(electricity, savings=1234.0, band=50.0, savings_note="programme_in_baseline")
    page = html.unescape(my_savings.view_html(dataclasses.replace(view, carriers=(early,)), "en"))
    assert "1,234" in page and "began during the baseline year" in page


def test_judge_and_tips():
    value, typical, efficient = pd.Series([1.0, 5.0, 9.0, np.nan]), pd.Series([6.0] * 4), pd.Series([2.0] * 4)
    assert peers.judge(value, typical, efficient).tolist()[:3] == ["great", "good", "could_save_more"]
    assert peers.judge(value, typical, efficient).isna().iloc[3]
    for carrier in household.CARRIERS:
        assert 3 <= len(household.tips(carrier)) <= 5
        assert all(t["ko"] and t["en"] for t in household.tips(carrier))
