"""The live monitor's controller (``notebooks/apps/live.ipynb``; data from ``make live`` or
``energy watch``, docs/monitoring.md).

Today's load of each AMI site whose register lets its series be shown against its expected load
(TOWT, computed by the watcher), the total that may be shown (:func:`energy_lib.apps.live_view.published`),
and readings outside their prediction interval. A task in the kernel follows the status files
(``$ENERGY_LIVE_DIR``) and updates the widgets in place: Voila sends the changes to the open page.
"""

from __future__ import annotations

import asyncio
import os

from energy_lib.apps import controls, explorer, live_view
from energy_lib.core import i18n, templating
from energy_lib.realtime import live

__all__ = ["LiveApp"]



class LiveApp:
    """The monitor's widgets and the task that redraws them when the watcher writes a new status.

    Parameters
    ----------
    lang : str
        The language shown first; the citizen can switch.
    every : float
        Seconds between checks of the live status [s] (a check is one stat of ``status.json``).
    default_folder : str
        The watcher's status folder when ``$ENERGY_LIVE_DIR`` is not set (the notebook's
        parameter, relative to the kernel's folder ``notebooks/apps``).
    """

    def __init__(self, lang: str, every: float, default_folder: str) -> None:
        import ipywidgets as widgets

        self.folder = os.environ.get("ENERGY_LIVE_DIR", default_folder)
        self.every = every
        self.heading, self.about, self.status = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.language = controls.language_buttons(lang)
        self.city, self.city_chart, self.sites, self.site_heading = widgets.HTML(), widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.site_menu = widgets.Dropdown(layout=widgets.Layout(width="100%"), style={"description_width": "initial"})
        self.site_chart = widgets.HTML()
        self.today = widgets.VBox([self.city, self.city_chart, self.sites, self.site_heading, self.site_menu, self.site_chart])
        self.frame, self.meta = live.empty_status(), {}
        self.updating = False
        self.following = None
        self.language.observe(self.draw, "value")
        self.site_menu.observe(self.draw_site, "value")

    def draw_site(self, *_) -> None:
        """The chosen site's day against its expected load."""
        if not self.updating and self.site_menu.value:
            self.site_chart.value = live_view.site_figure_html(self.frame, self.site_menu.value, self.language.value)

    def draw(self, *_) -> None:
        """Everything from the latest status, in the chosen language."""
        lang = self.language.value

        def t(key: str) -> str:
            return i18n.text(key, lang)

        self.heading.value = controls.heading_html(t("live.title"), lang)
        self.about.value = templating.render("apps/about.html.j2", lang=lang, heading=t("live.about"), text=t("live.intro"))
        self.language.description, self.site_menu.description = t("explorer.language"), t("live.site")
        frame, meta = self.frame, self.meta
        if frame.empty:  # the watcher has not written a status yet
            self.status.value = live_view.empty_html(lang)
            self.today.layout.display = "none"
            return
        self.today.layout.display = None
        self.city.value = live_view.city_html(frame, meta, lang)
        self.city_chart.value = live_view.city_figure_html(frame, meta, lang)
        self.sites.value = live_view.sites_html(frame, lang)
        self.site_heading.value = controls.heading_html(t("live.site_heading"), lang, level=2)
        choices = live_view.site_choices(frame, lang)  # only sites whose series may be shown
        self.site_menu.layout.display = None if choices else "none"
        if list(self.site_menu.options) != choices:  # keep the citizen's choice across updates
            chosen, self.updating = self.site_menu.value, True
            self.site_menu.options = choices
            self.site_menu.value = chosen if chosen in dict(choices).values() else (choices[0][1] if choices else None)
            self.updating = False
        self.site_chart.value = "" if choices else controls.paragraph_html(t("live.no_public_sites"), lang)
        self.draw_site()
        self.status.value = live_view.status_html(frame, meta, lang)  # last: a new status line means all is drawn

    def redraw(self, frame, meta) -> None:
        """Draw a new status (the follower's callback)."""
        self.frame, self.meta = frame, meta
        self.draw()

    def widget(self):
        """Read the current status, start following the folder and return the page to display:
        data first (the status and today's figures under the title), the explanation after them."""
        import ipywidgets as widgets

        drawn = live_view.status_stamp(self.folder)  # taken first: a status replaced while it is read is drawn again
        self.redraw(*live.read_status(self.folder))
        # a task needs a reference, kept by the app
        self.following = asyncio.ensure_future(live_view.follow(self.folder, self.redraw, every=self.every, drawn=drawn))
        return widgets.VBox([widgets.HTML(explorer.app_style() + live_view.style()), self.heading, self.language,
                             self.status, self.today, self.about])
