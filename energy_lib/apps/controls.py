"""What every citizen app's controller shares: the language buttons and the HTML of its headings,
paragraphs and status lines (from the templates of ``core/templates/apps/``, escaped)."""

from __future__ import annotations

from energy_lib.core import i18n, templating

__all__ = ["language_buttons", "heading_html", "paragraph_html", "status_html", "OK_COLOUR", "ACT_COLOUR"]

OK_COLOUR = "#0b5d1e"
"""A status that says something was done (green, 7.4:1 on white)."""
ACT_COLOUR = "#a40e26"
"""A status that asks the citizen to act (red, 7.2:1 on white)."""


def language_buttons(lang: str):
    """The language choice every app starts with: one language at a time, Korean first."""
    import ipywidgets as widgets

    return widgets.ToggleButtons(options=[(i18n.text("nav.language", code), code) for code in i18n.LANGUAGES], value=lang)


def heading_html(title: str, lang: str, intro: str | None = None, *, level: int = 1) -> str:
    """A heading (``<h1>`` unless ``level`` says otherwise) in ``lang``, and an introduction under it."""
    return templating.render("apps/heading.html.j2", title=title, intro=intro, lang=lang, level=level)


def paragraph_html(text: str, lang: str) -> str:
    """One paragraph in ``lang``."""
    return templating.render("apps/paragraph.html.j2", text=text, lang=lang)


def status_html(text: str, lang: str, ok: bool) -> str:
    """A message in words (``role=status``), green when done, red when the citizen should act."""
    return templating.render("apps/status.html.j2", text=text, lang=lang, colour=OK_COLOUR if ok else ACT_COLOUR)
