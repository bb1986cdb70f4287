"""Programme evaluation pages of a city with enough participants (the 4,000-household recovery
city), published like the rest of the site and read in headless Chromium at phone width."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_lib.core import i18n

pytestmark = pytest.mark.xdist_group("recovery")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def programme_site(recovery_site) -> dict:
    """Every programme page in both languages, in the recovery city's site (tests/e2e/conftest.py)."""
    return {**recovery_site, "pages": recovery_site["programme_pages"]}


def test_every_programme_has_a_page_linked_from_the_index(programme_site):
    assert {p.path for p in programme_site["pages"]} == {f"{lang}/programme/{p}.html" for lang in ("ko", "en")
                                                          for p in ("balcony_pv", "energy_village", "insulation_retrofit")}
    for lang in ("ko", "en"):
        index = (programme_site["site"] / lang / "index.html").read_text("utf-8")
        assert i18n.text("section.programme", lang) in index
        assert 'programme/balcony_pv.html"' in index


@pytest.mark.parametrize("path", ["ko/programme/balcony_pv.html", "en/programme/energy_village.html"])
def test_a_programme_page_reads_well_on_a_phone_and_passes_axe(programme_site, browser, path):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{programme_site['url']}/{path}")
    page.evaluate("document.fonts.ready")
    lang = path.split("/")[0]
    assert page.get_by_role("heading", name=i18n.text("programme.event_heading", lang)).is_visible()
    images = page.locator("main svg[role=img]")  # charts are inline SVG with their alt text as aria-label
    assert images.count() >= 1 and all(images.nth(i).get_attribute("aria-label") for i in range(images.count()))
    widest = page.evaluate("Math.max(...Array.from(document.querySelectorAll('main svg.chart')).map(i => i.getBoundingClientRect().right))")
    assert widest <= 390, "a figure is wider than the phone"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"programme-{path.replace('/', '-')}.png"), full_page=True)
    violations = [(v["id"], v["impact"], len(v["nodes"])) for v in Axe().run(page).response["violations"]]
    page.close()
    assert not violations, violations
