"""The apps' index page (``notebooks/apps/index.ipynb``): a link to each app, in Korean or English
(one language at a time, Korean first), in the apps' Korean font."""

from __future__ import annotations

from energy_lib.apps import controls, explorer
from energy_lib.core import i18n

__all__ = ["IndexApp"]


class IndexApp:
    """The index's widgets and their callback: the links redrawn in the chosen language."""

    def __init__(self, lang: str = "ko") -> None:
        import ipywidgets as widgets

        self.language = controls.language_buttons(lang)
        self.page = widgets.HTML()
        self.language.observe(self.relabel, "value")
        self.relabel()

    def relabel(self, *_) -> None:
        """Every label and link in the chosen language."""
        self.language.description = i18n.text("explorer.language", self.language.value)
        self.page.value = explorer.app_style() + explorer.index_html(self.language.value)

    def widget(self):
        """The page to display."""
        import ipywidgets as widgets

        return widgets.VBox([self.language, self.page])
