"""The secret key in use: commands fail closed without it, the demo makes its own, rotation keeps
every join (docs/privacy.md, 'Keys')."""

from __future__ import annotations

import shutil
import stat

import pandas as pd
import pytest
from typer.testing import CliRunner

from energy_lib.apps import household
from energy_lib.cli import app
from energy_lib.core import keys
from energy_lib.demo.city import households
from energy_lib.store import Store

runner = CliRunner()


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    """No key anywhere: the variable unset and the key file missing."""
    monkeypatch.delenv("ENERGY_SECRET_KEY", raising=False)
    path = tmp_path / "config" / "energy-workbook" / "secret.key"
    monkeypatch.setenv("ENERGY_KEY_FILE", str(path))
    return path


def test_ingest_and_publish_refuse_to_run_without_a_key(no_key, tmp_path, write):
    bills = write("bills.csv", "고객번호,행정동코드,청구년월,사용량,단위,검침구분\n1203004517,2914051000,2025-01,300,kWh,실검침\n")
    for command in (["ingest", str(bills)], ["publish", "--site", str(tmp_path / "site")],
                    ["watch", str(tmp_path), "--once"], ["household-index"]):
        result = runner.invoke(app, [*command, "--store", str(tmp_path / "store")])
        assert result.exit_code == 1, command
        assert "no secret key" in result.output and "energy keys create" in result.output, command
        assert str(no_key) in result.output and "ENERGY_SECRET_KEY" in result.output
        assert "Traceback" not in result.output
    assert not Store(tmp_path / "store").rows("readings") and not no_key.exists()  # nothing read, no key made


def test_a_key_others_can_read_is_refused(no_key, tmp_path, write):
    keys.create_key()
    no_key.chmod(0o640)
    result = runner.invoke(app, ["ingest", str(write("x.csv", "a\n1\n")), "--store", str(tmp_path / "store")])
    assert result.exit_code == 1 and "chmod 600" in result.output


def test_keys_create_show_and_the_demos_own_key(no_key, tmp_path):
    result = runner.invoke(app, ["demo", "--households", "30", "--out", str(tmp_path / "raw"),
                                 "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert f"created a secret key for the pseudonyms in {no_key}" in result.output
    assert stat.S_IMODE(no_key.stat().st_mode) == 0o600
    assert Store(tmp_path / "store").rows("readings") > 0
    again = runner.invoke(app, ["keys", "create"])
    assert again.exit_code == 1 and "not overwritten" in again.output
    shown = runner.invoke(app, ["keys", "show"])
    assert shown.exit_code == 0 and keys.key_id(keys.ring()[0]) in shown.output
    assert keys.ring()[0].hex() not in shown.output


def test_rotation_keeps_every_join_and_new_files_get_the_rekeyed_ids(published, household_index, monkeypatch, tmp_path):
    """energy keys rotate on copies of the demo's store, derived tables and "my savings" index."""
    key = tmp_path / "secret.key"
    shutil.copy(keys.key_file(), key)
    monkeypatch.setenv("ENERGY_KEY_FILE", str(key))
    for name in ("store", "derived"):
        shutil.copytree(published[name].root, tmp_path / name)
    shutil.copy(household_index["path"], tmp_path / "index.parquet")
    store, derived = Store(tmp_path / "store"), Store(tmp_path / "derived")
    accounts = pd.Series(households(_demo_settings())["electricity_no"])

    def state() -> dict:
        meters = set(store.read("meters")["meter_id"])
        return {
            "meters": meters,
            "joined_readings": store.sql("SELECT count(*) AS n FROM readings JOIN meters USING (meter_id)")["n"][0],
            "joined_sites": store.sql("SELECT count(*) AS n FROM meters JOIN sites USING (site_id)")["n"][0],
            "savings_known": derived.read("savings")["meter_id"].isin(meters).mean(),
            "customers_found": household.customer_pseudonym(accounts).isin(meters).mean(),
            "index_found": pd.read_parquet(tmp_path / "index.parquet")["meter_id"].isin(meters).mean(),
        }

    before = state()
    result = runner.invoke(app, ["keys", "rotate", "--store", str(store.root), "--derived", str(derived.root),
                                 "--index", str(tmp_path / "index.parquet")])
    assert result.exit_code == 0, result.output
    after = state()
    assert len(keys.ring()) == 2 and not (before["meters"] & after["meters"])  # every id moved
    for name in ("joined_readings", "joined_sites", "savings_known", "customers_found", "index_found"):
        assert after[name] == before[name] and before[name] > 0, name
    assert before["customers_found"] > 0.9  # a customer number ingested now lands on its re-keyed meter
    # the personal codes are peppered with the first key and stay valid
    lookup = household.Lookup(tmp_path / "index.parquet", throttle_path=tmp_path / "attempts.sqlite")
    index = pd.read_parquet(tmp_path / "index.parquet")
    mine = household.customer_pseudonym(household_index["accounts"]).isin(index["meter_id"]).to_numpy()
    account, code = household_index["accounts"][mine].iloc[0], household_index["codes"][mine].iloc[0]
    assert not isinstance(lookup.find(account, code, client="s"), household.Refused)
    assert not list(tmp_path.glob("*.rotation"))


def test_an_interrupted_rotation_is_finished_by_running_it_again(monkeypatch, tmp_path, store):
    from energy_lib.store import rekey

    monkeypatch.setenv("ENERGY_KEY_FILE", str(tmp_path / "secret.key"))
    keys.create_key()
    other = Store(tmp_path / "other")
    calls = []
    original = rekey.rekey_store

    def crash_on_second(target, master):
        calls.append(target.root)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(target, master)

    monkeypatch.setattr(rekey, "rekey_store", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        rekey.rotate([store, other], [])
    assert len(keys.ring()) == 1 and rekey.journal_path(keys.key_file()).exists()
    monkeypatch.setattr(rekey, "rekey_store", original)
    done = rekey.rotate([store, other], [])
    assert list(done.moved) == [str(other.root.resolve())]  # the first store is not moved twice
    assert len(keys.ring()) == 2 and not rekey.journal_path(keys.key_file()).exists()


def _demo_settings():
    from energy_lib.demo.city import DemoSettings
    from tests.conftest import DEMO_HOUSEHOLDS

    return DemoSettings(households=DEMO_HOUSEHOLDS)
