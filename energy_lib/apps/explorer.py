"""The ward explorer app's data: choices of gu and dong, and the published page of each.

The explorer (``notebooks/apps/ward_explorer.ipynb``, served by Voila) shows, for the gu or dong
a citizen picks, the report that ``energy publish`` already rendered from the privacy-checked open
data: nothing is computed while the citizen waits, and nothing withheld from the published site
can appear in the app. A selection reads one small HTML file (well under the 300 ms an
interaction may take).

The site folder is ``$ENERGY_SITE`` or ``reports/site`` in the repository.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from energy_lib.core import i18n, templating
from energy_lib.core.wards import wards

__all__ = ["site_dir", "gu_choices", "dong_choices", "report_fragment", "app_style", "APPS", "index_html"]

_MAIN = re.compile(r'<main id="content">(.*)</main>', flags=re.S)


def site_dir() -> Path:
    """The published site: ``$ENERGY_SITE`` (``energy serve --site`` sets it), else ``reports/site``
    in the working folder."""
    return Path(os.environ.get("ENERGY_SITE") or "reports/site").resolve()


def gu_choices(lang: str) -> list[tuple[str, str]]:
    """``(name, gu_code)`` of the five gu, in code order, for a dropdown."""
    table = wards().drop_duplicates("gu_code").sort_values("gu_code")
    return [(i18n.area_name(code, lang), code) for code in table["gu_code"]]


def dong_choices(gu_code: str, lang: str) -> list[tuple[str, str]]:
    """``(name, code)`` of the gu as a whole first, then its dongs by name."""
    table = wards()
    rows = table[table["gu_code"] == gu_code]
    column = "dong_name_ko" if lang == "ko" else "dong_name_en"
    dongs = sorted(zip(rows[column], rows["ward_code"]), key=lambda pair: pair[0])
    return [(i18n.text("explorer.whole_gu", lang), gu_code), *dongs]


@functools.lru_cache(maxsize=256)
def _fragment(path: Path, mtime_ns: int) -> str:
    match = _MAIN.search(path.read_text("utf-8"))
    return match.group(1) if match else ""


def report_fragment(code: str, lang: str, site: Path | None = None) -> str:
    """The body of the published report of a gu (5 digits) or dong (10 digits), as HTML, inside
    a ``<div lang=…>``; a message in ``lang`` when the page has not been published.

    The fragment is the site's own page (alt text, table alternatives and provenance included),
    cached per file version.
    """
    site = site or site_dir()
    folder = "gu" if len(code) == 5 else "dong"
    path = site / lang / folder / f"{code}.html"
    if not path.exists():
        message = i18n.text("explorer.not_published", lang, name=i18n.area_name(code, lang))
        return templating.render("explorer/report.html.j2", lang=lang, fragment=None, message=message)
    # the site's own page, written by its templates (energy_lib/publish/site.py): safe as it is
    fragment = templating.Markup(_fragment(path, path.stat().st_mtime_ns))
    return templating.render("explorer/report.html.j2", lang=lang, fragment=fragment, message=None)


def app_style(fonts_url: str = "/voila/files/assets/") -> str:
    """A ``<style>`` for the app: the site's stylesheet (reports look as on the site) with the
    Korean font served by Voila from ``notebooks/apps/assets/`` (``make serve`` puts it there),
    and the widgets' labels and menus in the same font."""
    from energy_lib.publish.site import site_css

    # JupyterLab's theme gives rendered HTML its own font family, more specific than the site's
    widgets = (".widget-label, .widget-dropdown select, .widget-toggle-button, .jupyter-widgets, body, "
               ".widget-html-content, .widget-html-content *, .jp-RenderedHTMLCommon, .jp-RenderedHTMLCommon *, "
               '.explorer-report, .explorer-report *, .board, .board *, .my-savings, .my-savings *, .apps-index, .apps-index *, '
               'input, textarea, select, button { font-family: "NanumGothic", sans-serif !important; }')
    # long Korean sentences must wrap inside the widgets' boxes on a phone
    wrapping = (".widget-html-content { white-space: normal !important; } "
                ".my-savings, .board, .explorer-report { overflow-wrap: anywhere; max-width: 100%; } "
                # a report's table scrolls in its own box on a phone; its numbers and words are never split
                ".explorer-report th, .explorer-report td { overflow-wrap: normal; word-break: keep-all; white-space: nowrap; } "
                # a labelled input is as wide as the phone and no wider: its field shrinks, not the page (an app that
                # sets a width gives it as calc(100% - 4px), the widgets' margins, with its max_width for wide screens)
                ".widget-box, .widget-html, .widget-html-content { max-width: 100% !important; } "
                ".widget-inline-hbox { max-width: calc(100% - 2 * var(--jp-widgets-margin, 2px)); } "
                ".widget-inline-hbox input, .widget-inline-hbox textarea, .widget-inline-hbox select { min-width: 0 !important; }")
    # the package's own stylesheet, not escaped: entities mean nothing inside <style>
    return templating.render("explorer/style.html.j2", css=templating.Markup(f"{site_css(fonts_url)}\n{widgets}\n{wrapping}"))


APPS = (("ward_explorer.ipynb", "explorer.title", "explorer.intro"), ("my_savings.ipynb", "my_savings.title", "my_savings.intro"),
        ("board.ipynb", "board.title", "board.intro"), ("live.ipynb", "live.title", "live.intro"))
"""The citizen apps: notebook, title key and description key of the catalogue."""


def index_html(lang: str) -> str:
    """The apps' index page in ``lang``: each app's title, linked to the app itself
    (``/voila/render/<notebook>``), and what it is for. Nothing else is linked (no file tree)."""
    apps = [{"notebook": notebook, "title": i18n.text(title, lang), "intro": i18n.text(intro, lang)}
            for notebook, title, intro in APPS]
    return templating.render("explorer/index.html.j2", lang=lang, title=i18n.text("apps.title", lang), apps=apps)
