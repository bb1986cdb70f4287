"""Checks every citizen app must pass in the browser at phone width, and the screenshots that let
a person look at it (``test-artifacts/``, gitignored)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MISSING = re.compile(r"<NA>|\bnan\b|\bNaN\b|\bNone\b")
HANGUL = re.compile("[가-힣]")
LANGUAGE_NAMES = ("한국어", "English")  # the switch names each language in itself

# Elements that stick out of the box that clips them (a field cut off at the right edge) or of the
# window: their tag, class and how far they reach [CSS px]. A wide table's cells are not counted:
# the table scrolls sideways in its own box, the page does not.
_OUTSIDE = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    let clip = e.parentElement;
    while (clip && clip !== document.body && getComputedStyle(clip).overflowX === 'visible') clip = clip.parentElement;
    if (clip && clip.tagName === 'TABLE') continue;  // a table scrolls in its own box (site.css), it is not cut off
    if (clip && clip !== document.body && clip.getBoundingClientRect().width <= 1) continue;  // visually hidden, for screen readers (a stacked table's header)
    const limit = Math.min(window.innerWidth, clip && clip !== document.body ? clip.getBoundingClientRect().right : Infinity);
    if (r.right > limit + 0.5) out.push(`${e.tagName}.${String(e.className.baseVal ?? e.className).slice(0, 50)} ${Math.round(r.right)} > ${Math.round(limit)}` + (e.closest('svg') ? ` in the figure "${(e.closest('svg').getAttribute('aria-label') || '').slice(0, 60)}": ${(e.textContent || '').slice(0, 40)}` : ''));
  }
  return out.slice(0, 10);
}"""


def page_text(page, *, collapsed: bool = True) -> str:
    """What the page says: its text, alt texts, options and titles; with ``collapsed`` also the
    text of closed ``<details>`` (a figure's table) and other hidden parts, not styles or scripts."""
    shown = page.evaluate("document.body.innerText + ' ' + [...document.querySelectorAll('img[alt], option, [title]')]"
                          ".map(e => e.alt || e.textContent || e.title).join(' ')")
    if not collapsed:
        return shown
    return shown + " " + page.evaluate("(() => { const copy = document.body.cloneNode(true); "
                                       "copy.querySelectorAll('style, script').forEach(e => e.remove()); "
                                       "return copy.textContent; })()")


def assert_fits_a_phone(page, *, collapsed: bool = True) -> None:
    """No sideways scroll at 390 px, nothing cut off at the right, and no missing value printed
    (in closed tables too, unless ``collapsed`` is False)."""
    assert page.viewport_size["width"] == PHONE["width"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} px"
    outside = page.evaluate(_OUTSIDE)
    assert not outside, outside
    found = MISSING.findall(page_text(page, collapsed=collapsed))
    assert not found, found


def assert_one_language(page, lang: str, *, allowed: tuple[str, ...] = ()) -> None:
    """Korean pages hold no English word but units and ``allowed`` names; English pages no Hangul
    but ``allowed`` (names of places and buildings the citizen chose, text citizens wrote)."""
    text = page.evaluate("document.body.innerText")
    for name in (*LANGUAGE_NAMES, *allowed):
        text = text.replace(name, " ")
    if lang == "en":
        assert not HANGUL.search(text), sorted(set(re.findall(r"\S*[가-힣]+\S*", text)))[:20]
    else:
        words = set(re.findall(r"[A-Za-z][A-Za-z₂0-9]*", text)) - {"kWh", "m", "kgCO₂eq", "kgCO2eq", "LED", "toe", "tCO2eq", "MWh", "GWh"}
        assert not words, sorted(words)[:20]


def screenshots(page, name: str) -> list[Path]:
    """The whole app at 390 px and at 1280 px (Voila scrolls inside its own element, so the window
    is made as tall as the content), then the phone viewport again."""
    ARTIFACTS.mkdir(exist_ok=True)
    paths = []
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        height = page.evaluate("Math.max(...[...document.querySelectorAll('body, body *')].map(e => e.scrollHeight))")
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 8000))})
        path = ARTIFACTS / f"app-{name}-{size['width']}.png"
        page.screenshot(path=str(path))
        paths.append(path)
    page.set_viewport_size(PHONE)
    return paths
