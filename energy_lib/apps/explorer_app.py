"""The ward explorer's controller (``notebooks/apps/ward_explorer.ipynb``). It shows the report
pages ``energy publish`` rendered from the open data, for the gu or dong the citizen picks:
nothing is computed in a widget callback, and nothing withheld from the site can appear here
(:mod:`energy_lib.apps.explorer` reads the site, ``$ENERGY_SITE`` or ``reports/site``)."""

from __future__ import annotations

from energy_lib.apps import controls, explorer
from energy_lib.core import i18n

__all__ = ["ExplorerApp"]


class ExplorerApp:
    """The explorer's widgets (language, gu and dong menus, the report) and their callbacks.

    Parameters
    ----------
    lang : str
        The language shown first; the citizen can switch.
    gu : str
        The 5-digit code of the gu shown first.
    """

    def __init__(self, lang: str = "ko", gu: str = "29140") -> None:
        import ipywidgets as widgets

        self.gu = gu
        self.style = widgets.HTML(explorer.app_style())
        self.heading = widgets.HTML()
        self.language = controls.language_buttons(lang)
        self.gu_menu = widgets.Dropdown()
        self.dong_menu = widgets.Dropdown()
        self.report = widgets.HTML()
        self.controls = widgets.Box([self.language, self.gu_menu, self.dong_menu],
                                    layout=widgets.Layout(flex_flow="row wrap", gap="8px"))
        self.updating = False
        self.language.observe(self.relabel, "value")
        self.gu_menu.observe(self.fill_dongs, "value")
        self.dong_menu.observe(self.show_report, "value")
        self.relabel()

    def show_report(self, *_) -> None:
        """The chosen gu's or dong's report page."""
        if not self.updating and self.dong_menu.value:
            self.report.value = explorer.report_fragment(self.dong_menu.value, self.language.value)

    def fill_dongs(self, *_) -> None:
        """The dongs of the chosen gu; the gu's own report first."""
        if self.updating:
            return
        self.updating = True
        self.dong_menu.options = explorer.dong_choices(self.gu_menu.value, self.language.value)
        self.dong_menu.value = self.gu_menu.value
        self.updating = False
        self.show_report()

    def relabel(self, *_) -> None:
        """Every label in the chosen language, keeping the gu and dong chosen."""
        current_gu, current = self.gu_menu.value or self.gu, self.dong_menu.value or self.gu
        self.updating = True
        lang = self.language.value
        self.heading.value = controls.heading_html(i18n.text("explorer.title", lang), lang, i18n.text("explorer.intro", lang))
        self.language.description = i18n.text("explorer.language", lang)
        self.gu_menu.description, self.dong_menu.description = i18n.text("explorer.gu", lang), i18n.text("explorer.dong", lang)
        self.gu_menu.options = explorer.gu_choices(lang)
        self.gu_menu.value = current_gu
        self.dong_menu.options = explorer.dong_choices(current_gu, lang)
        self.dong_menu.value = current
        self.updating = False
        self.show_report()

    def widget(self):
        """The page to display."""
        import ipywidgets as widgets

        return widgets.VBox([self.style, self.heading, self.controls, self.report])
