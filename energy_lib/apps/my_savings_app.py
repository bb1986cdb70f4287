"""The controller of "my savings" (``notebooks/apps/my_savings.ipynb``): a household sees its own
page only, behind its customer number and personal energy code.

Every page was computed ahead by ``energy household-index`` (``$ENERGY_HOUSEHOLD_INDEX``); a lookup
reads it in milliseconds. Unknown customers and wrong codes get the same message, and repeated
failures are slowed down per client (this browser, the same across reloads), so that nobody can
lock a neighbour out (:class:`energy_lib.apps.household.Lookup`).
"""

from __future__ import annotations

import os

from energy_lib.apps import controls, explorer, household, my_savings
from energy_lib.apps.client import client_key
from energy_lib.core import i18n

__all__ = ["MySavingsApp"]



class MySavingsApp:
    """The lookup's widgets (customer number, code, a button) and the household's page.

    Parameters
    ----------
    lang : str
        The language shown first; the citizen can switch.
    default_index : str
        The household index when ``$ENERGY_HOUSEHOLD_INDEX`` is not set (the notebook's
        parameter, relative to the kernel's folder ``notebooks/apps``).
    """

    def __init__(self, lang: str, default_index: str) -> None:
        import ipywidgets as widgets

        self.lookup = household.Lookup(os.environ.get("ENERGY_HOUSEHOLD_INDEX", default_index))
        wide = widgets.Layout(width="calc(100% - 4px)", max_width="24em")
        self.language = controls.language_buttons(lang)
        self.heading = widgets.HTML()
        self.customer = widgets.Text(layout=wide, style={"description_width": "initial"})
        self.code = widgets.Password(layout=wide, style={"description_width": "initial"})
        self.show = widgets.Button(button_style="primary")
        self.page = widgets.HTML()
        self.view = None
        self.show.on_click(self.look_up)
        self.language.observe(self.relabel, "value")
        self.relabel()

    def draw(self) -> None:
        """The household's page (or the refusal) in the chosen language."""
        view, lang = self.view, self.language.value
        self.page.value = ("" if view is None else my_savings.refused_html(view, lang) if isinstance(view, household.Refused)
                           else my_savings.view_html(view, lang))

    def look_up(self, _=None) -> None:
        """Find the household of the customer number and code typed."""
        self.view = self.lookup.find(self.customer.value.strip(), self.code.value, client_key())
        self.draw()
        self.code.value = ""  # the code is not kept on screen (cleared last: an emptied field means the answer is shown)

    def relabel(self, *_) -> None:
        """Every label in the chosen language; the household's page again in it."""
        lang = self.language.value
        self.heading.value = (explorer.app_style() + my_savings.style()
                              + controls.heading_html(i18n.text("my_savings.title", lang), lang, i18n.text("my_savings.intro", lang)))
        self.language.description = i18n.text("explorer.language", lang)
        self.customer.description, self.code.description = i18n.text("my_savings.customer", lang), i18n.text("my_savings.code", lang)
        self.show.description = i18n.text("my_savings.show", lang)
        self.draw()

    def widget(self):
        """The page to display."""
        import ipywidgets as widgets

        return widgets.VBox([self.heading, self.language, self.customer, self.code, self.show, self.page])
