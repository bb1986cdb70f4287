"""The published site end to end: every link works, both languages, provenance on every page,
privacy, a failing notebook reported while the rest publish, incremental rebuilds, and in a real
browser: Korean text rendered with the site's font, and no accessibility violations (axe-core)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag

import pytest
from cleartext import demo_secrets, leaks

from energy_lib.publish import site as publish
from tests.conftest import NOTEBOOKS

pytestmark = pytest.mark.xdist_group("published")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.lang = [], [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs)
        if tag == "svg" and attrs.get("role") == "img":  # a chart: inline SVG, its alt text as aria-label
            self.images.append({"alt": attrs.get("aria-label", "")})


def _pages(site_dir: Path) -> list[Path]:
    return sorted(p for p in site_dir.rglob("*.html"))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


def test_every_link_of_every_page_works(site):
    pages = _pages(site["site"])
    assert len(pages) >= len(site["pages"]) + 4  # the pages, two indexes, the language choice, open data
    for page in pages:
        for href in _parse(page).links:
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            target = (page.parent / urldefrag(href).url).resolve()
            assert target.exists(), f"{page.relative_to(site['site'])}: broken link {href}"


def test_index_links_every_page_in_both_languages(site):
    for lang in ("ko", "en"):
        links = set(_parse(site["site"] / lang / "index.html").links)
        for page in site["pages"]:
            if page.lang == lang:
                assert publish._relative(f"{lang}/index.html", page.path) in links, page.path


def test_pages_declare_their_language_show_provenance_and_no_traceback(site):
    for page in site["pages"]:
        path = site["site"] / page.path
        parsed = _parse(path)
        text = path.read_text("utf-8")
        assert parsed.lang == page.lang, page.path
        assert 'class="provenance"' in text and site["manifest"]["code_version"] in text, page.path
        assert site["manifest"]["period"]["start"] in text
        visible = re.sub(r"<[^>]+>", "", re.sub(r"<(style|script)[^>]*>.*?</\1>", "", text, flags=re.S))
        assert "Traceback" not in visible and "Error" not in visible, page.path
        assert parsed.images and all(img.get("alt", "").strip() for img in parsed.images), page.path
        assert "<script src=\"http" not in text and "cdnjs" not in text, "pages must work offline"


def test_no_customer_number_or_code_in_any_file_of_the_site(site, demo, household_index):
    files = [path for path in site["site"].rglob("*") if path.is_file()]
    assert {path.suffix for path in files} >= {".html", ".csv", ".json"} and len(files) > 20
    found = leaks(files, demo_secrets(demo, household_index))
    assert not found, "in clear:\n" + "\n".join(f"{path}: {', '.join(hits)}" for path, hits in found.items())


def test_small_areas_are_suppressed_not_shown(site):
    dong = (site["site"] / "ko" / "dong" / "2914074500.html").read_text("utf-8")
    assert "비공개" in dong  # the small demo has a few households per dong: every use is withheld
    english = (site["site"] / "en" / "dong" / "2914074500.html").read_text("utf-8")
    assert "suppressed" in english


def test_a_failing_notebook_is_reported_and_the_rest_publish(site):
    failed = {r.path: r.error for r in site["summary"].failed}
    assert set(failed) == {"ko/dong/0000000000.html"} and "0000000000" in failed["ko/dong/0000000000.html"]
    assert not (site["site"] / "ko/dong/0000000000.html").exists()
    index = (site["site"] / "ko" / "index.html").read_text("utf-8")
    assert 'class="failed"' in index and "없는 동" in index
    # the reason names the open data as the site holds it, not the server's folder
    assert "areas in data," in failed["ko/dong/0000000000.html"] and str(site["site"]) not in index
    summary = json.loads((site["site"] / "build-summary.json").read_text("utf-8"))
    assert summary["failed"][0]["path"] == "ko/dong/0000000000.html"
    assert all((site["site"] / page.path).exists() for page in site["pages"])


def test_a_rebuild_without_changes_executes_nothing(site, tmp_path):
    copy = tmp_path / "site"  # the other tests of the group share the site: rebuild a copy of it
    shutil.copytree(site["site"], copy)
    again = publish.build(copy, site["pages"], site["manifest"]["data_hash"], notebooks=NOTEBOOKS / "reports", workers=2)
    assert again.counts() == {"unchanged": len(site["pages"])}
    changed = publish.build(copy, site["pages"][:1], "another data hash", notebooks=NOTEBOOKS / "reports", workers=1)
    assert changed.counts() == {"executed": 1}


@pytest.mark.parametrize("path", ["ko/city.html", "en/city.html", "ko/dong/2914074500.html", "en/dong/2914074500.html"])
def test_korean_text_renders_with_the_site_font(server, browser, path):
    page = browser.new_page(viewport={"width": 420, "height": 900})
    page.goto(f"{server}/{path}")
    page.evaluate("document.fonts.ready")
    statuses = page.evaluate("Array.from(document.fonts).map(f => f.status)")
    assert statuses and all(status == "loaded" for status in statuses), statuses
    assert page.evaluate("document.fonts.check('16px NanumGothic', '광주')")
    heading = page.locator("h1").first
    assert heading.is_visible() and heading.bounding_box()["width"] > 50
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"site-{path.replace('/', '-')}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("path", ["ko/city.html", "en/city.html", "ko/dong/2914074500.html", "en/dong/2914074500.html"])
def test_pages_pass_axe_core(server, browser, path):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_page()
    page.goto(f"{server}/{path}")
    results = Axe().run(page)
    violations = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]]
    page.close()
    assert not violations, violations
