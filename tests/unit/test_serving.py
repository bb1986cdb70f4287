"""The apps' server settings (config/serving.toml), the busy page and the client key's parts.
The server itself is driven in headless Chromium by tests/e2e/test_bounded_apps.py."""

from __future__ import annotations

import re

import pytest

from energy_lib.apps import client, serving
from energy_lib.core import keys

GIB = 1024 ** 3


def test_the_automatic_cap_fits_the_memory_and_stays_within_its_bounds():
    assert serving.kernel_cap(4 * GIB, per_kernel_mib=230, reserve_mib=1024, low=2, high=20) == 13  # (4096 - 1024) MiB / 230 MiB
    assert serving.kernel_cap(512 * 1024 ** 2, per_kernel_mib=230, reserve_mib=1024, low=2, high=12) == 2
    assert serving.kernel_cap(23 * GIB, per_kernel_mib=230, reserve_mib=1024, low=2, high=12) == 12
    with pytest.raises(ValueError, match="low <= high"):
        serving.kernel_cap(4 * GIB, per_kernel_mib=230, reserve_mib=1024, low=5, high=2)


def test_settings_come_from_the_configuration_and_options_override_them():
    configured = serving.serving_settings(available_bytes=4 * GIB)
    assert configured.max_kernels == 12 and configured.pool_size == 1 and configured.orphan_timeout_s == 60
    assert "live.ipynb" in configured.pool_apps
    # no kernel outlives its page by more than 2 minutes: the timeout plus one culler round
    assert configured.orphan_timeout_s + configured.cull_interval_s <= 120
    chosen = serving.serving_settings(available_bytes=4 * GIB, max_kernels=3, pool_size=0, orphan_timeout_s=5.0)
    assert (chosen.max_kernels, chosen.pool_size, chosen.orphan_timeout_s) == (3, 0, 5.0)
    with pytest.raises(ValueError, match="out of range"):
        serving.serving_settings(available_bytes=4 * GIB, max_kernels=0)


def test_the_busy_page_speaks_korean_first_then_english_and_escapes_the_address():
    page = serving.busy_page(base_url="/", retry_url='/voila/render/index.ipynb?x="><script>', retry_after_s=30)
    assert page.index('lang="ko"') < page.index('lang="en"')
    assert "30초쯤 뒤에" in page and "in about 30 seconds" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"(src|href)=\"https?://", page)  # nothing from another host


def test_a_browser_key_depends_on_browser_address_and_secret_and_hides_both():
    key = client.browser_key("browser-1", "192.0.2.7", b"k" * 32)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == client.browser_key("browser-1", "192.0.2.7", b"k" * 32)
    assert len({key, client.browser_key("browser-2", "192.0.2.7", b"k" * 32),
                client.browser_key("browser-1", "192.0.2.8", b"k" * 32),
                client.browser_key("browser-1", "192.0.2.7", b"j" * 32)}) == 4
    assert "192.0.2.7" not in key and client.new_browser_id() != client.new_browser_id()


def test_client_secrets_come_from_the_workbook_key_one_per_purpose(tmp_path, monkeypatch):
    first = client.secret(), client.cookie_secret()
    assert len(first[0]) == len(first[1]) == 32 and first[0] != first[1]
    assert first == (client.secret(), client.cookie_secret())  # the same after a restart
    monkeypatch.setenv("ENERGY_KEY_FILE", str(tmp_path / "other.key"))
    keys.create_key()
    assert client.secret() not in first and client.cookie_secret() not in first  # another key, other ids
    monkeypatch.setenv("ENERGY_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(keys.MissingKeyError):
        client.secret()


def test_client_key_reads_the_server_s_key_and_falls_back_to_one_key_per_process(monkeypatch):
    monkeypatch.delenv(client.ENVIRON, raising=False)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    client.client_key.cache_clear()
    outside = client.client_key()
    assert re.fullmatch(r"local-[0-9a-f]{32}", outside)
    client.client_key.cache_clear()
    assert client.client_key() == outside  # the same for every call in this process
    monkeypatch.setenv(client.ENVIRON, "a" * 64)
    client.client_key.cache_clear()
    assert client.client_key() == "a" * 64
    client.client_key.cache_clear()


def test_a_preheated_kernel_waiting_for_its_visitor_does_not_hold_the_warm_up_slot(monkeypatch):
    from voila.request_info_handler import RequestInfoSocketHandler

    manager = serving.WorkbookKernelManager(max_warming=1)
    monkeypatch.setattr(manager, "_starting", lambda: {"running-its-notebook", "waiting-for-a-visitor"})
    monkeypatch.setattr(RequestInfoSocketHandler, "_waiters", {"waiting-for-a-visitor": object()})
    assert manager.warming() == 1  # only the one using a core
    monkeypatch.setattr(RequestInfoSocketHandler, "_waiters", {})
    assert manager.warming() == 2
