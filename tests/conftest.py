"""Shared fixtures: an empty store with the reference tables, file writers, a small demo city."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from energy_lib.core import keys
from energy_lib.demo.city import DemoSettings, households
from energy_lib.demo.generate import generate, load
from energy_lib.ingest.formats import Options
from energy_lib.ingest.pipeline import ensure_reference, ingest_file
from energy_lib.store import Store

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
"""The repository's notebooks: reports/ and apps/ (`energy publish --notebooks`)."""
DEMO_HOUSEHOLDS = 600
RECOVERY_HOUSEHOLDS = 4_000  # about 75 balcony PV, 35 retrofit and 30 village households


@pytest.fixture(scope="session", autouse=True)
def secret_key(tmp_path_factory) -> Path:
    """The session's own key file in a temporary folder (``$ENERGY_KEY_FILE``): no test reads or
    writes the user's key, and the CLI and notebook kernels that tests start inherit this one."""
    saved = {name: os.environ.get(name) for name in ("ENERGY_SECRET_KEY", "ENERGY_KEY_FILE")}
    os.environ.pop("ENERGY_SECRET_KEY", None)
    os.environ["ENERGY_KEY_FILE"] = str(tmp_path_factory.mktemp("keys") / "secret.key")
    path = keys.create_key()
    yield path
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty store with wards, crosswalk and legal-dong links."""
    target = Store(tmp_path / "store")
    ensure_reference(target)
    return target


@pytest.fixture
def write(tmp_path: Path):
    """``write(name, text, encoding="utf-8")`` writes a file in tmp_path and returns its path."""
    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


@pytest.fixture
def ingest(store: Store):
    """``ingest(path, **options)`` → (report, quarantine rows of that file)."""
    def _ingest(path: Path, **options):
        report = ingest_file(store, path, Options(**options))
        quarantine = store.read("quarantine")
        return report, quarantine[quarantine["source_file"] == str(path)].reset_index(drop=True)

    return _ingest


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> dict:
    """A small demo city (600 households), generated and ingested once per test session."""
    root = tmp_path_factory.mktemp("demo")
    settings = DemoSettings(households=DEMO_HOUSEHOLDS)
    manifest = generate(settings, root / "raw")
    store = Store(root / "store")
    reports = load(store, root / "raw" / "manifest.json")
    return {"settings": settings, "raw": root / "raw", "store": store, "reports": reports,
            "manifest": json.loads((root / "raw" / "manifest.json").read_text("utf-8")),
            "entries": manifest.entries}


@pytest.fixture(scope="session")
def recovery_city(tmp_path_factory) -> dict:
    """A demo city big enough to check programme recovery, generated, ingested and computed once
    per test session, laid out as `make reports` lays out ``data/`` (raw/demo, store, derived).
    Tests using it belong to the ``recovery`` xdist group so that one worker builds it."""
    from energy_lib.compute import compute

    root = tmp_path_factory.mktemp("recovery")
    raw = root / "raw" / "demo"
    generate(DemoSettings(households=RECOVERY_HOUSEHOLDS), raw)
    store, derived = Store(root / "store"), Store(root / "derived")
    load(store, raw / "manifest.json")
    compute(store, derived, progress=False)
    return {"root": root, "raw": raw, "store": store, "derived": derived}


@pytest.fixture(scope="session")
def recovery_open_data(recovery_city) -> dict:
    """The open data of the recovery city (its programmes have enough participants to publish
    their evaluation). Tests using it belong to the ``recovery`` xdist group."""
    from energy_lib.publish import opendata

    data = recovery_city["root"] / "site" / "data"
    manifest = opendata.build(recovery_city["store"], recovery_city["derived"], data)
    return {**recovery_city, "data": data, "manifest": manifest}


@pytest.fixture(scope="session")
def published(demo, tmp_path_factory) -> dict:
    """The small demo city computed and its open data built once per session: ``site`` (with
    ``data/``), ``derived`` and the open-data ``manifest``."""
    from energy_lib.compute import compute
    from energy_lib.publish import opendata

    root = tmp_path_factory.mktemp("published")
    derived = Store(root / "derived")
    compute(demo["store"], derived, progress=False)
    site = root / "site"
    manifest = opendata.build(demo["store"], derived, site / "data")
    return {"site": site, "data": site / "data", "derived": derived, "store": demo["store"], "manifest": manifest}


HOUSEHOLD_SECRET = b"test-demo-code-issuer-key-32byte"
"""The key that issues the "my savings" codes in the tests."""


def code_cost():
    """scrypt's cost in the tests: cheaper than the configured one (1 MiB, not 4), same scheme."""
    from energy_lib.core.personal_codes import CodeHashSettings

    return CodeHashSettings(n=2**10)


@pytest.fixture(scope="session")
def household_index(published, tmp_path_factory) -> dict:
    """The small demo's electricity accounts, their personal codes and the "my savings" index
    (written to Parquet as ``path``), with the published city's store and derived tables."""
    from energy_lib.apps import household
    from energy_lib.core import personal_codes

    accounts = pd.Series(households(DemoSettings(households=DEMO_HOUSEHOLDS))["electricity_no"])
    codes = personal_codes.issue_codes(accounts, HOUSEHOLD_SECRET)
    index = household.build_index(published["store"], published["derived"], pd.DataFrame(
        {"account": accounts, "code_hash": personal_codes.code_hashes(codes, settings=code_cost())}))
    path = household.write_index(index, tmp_path_factory.mktemp("household") / "index.parquet")
    return {"accounts": accounts, "codes": codes, "index": index, "path": path, **published}


def bills_csv(rows: list[str], header: str = "고객번호,행정동코드,청구년월,사용량,단위,검침구분") -> str:
    """A small bill export: header plus rows."""
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def quarantine_of():
    def _of(store: Store, path: Path) -> pd.DataFrame:
        rows = store.read("quarantine")
        return rows[rows["source_file"] == str(path)].reset_index(drop=True)

    return _of
