"""The residents' bulletin board's controller (``notebooks/apps/board.ipynb``).

Posts are stored by :mod:`energy_lib.apps.board` (SQLite by default, ``$ENERGY_BOARD_URL``); text a
citizen writes is always shown escaped, and text holding a phone, customer or resident
registration number is refused before it is stored; staff moderate with ``energy board`` (every
action is in ``energy board log``). Posts, reports and rate limits count per client (this browser,
the same across reloads), not per page load.
"""

from __future__ import annotations

from energy_lib.apps import board as bulletin
from energy_lib.apps import controls, explorer
from energy_lib.apps.client import client_key
from energy_lib.core import i18n, templating
from energy_lib.core.wards import wards

__all__ = ["BoardApp", "CATEGORIES"]

CATEGORIES = ("tips", "questions", "news")
"""The board's categories, in the menus' order."""


class BoardApp:
    """The board's widgets (filters, the listing with a report button per post, pages, the form to
    write) and their callbacks.

    Parameters
    ----------
    lang : str
        The language shown first; the citizen can switch.
    per_page : int
        Posts per page.
    store : energy_lib.apps.board.Board, optional
        Where the posts are; default ``Board()`` (``$ENERGY_BOARD_URL`` or the SQLite file).
    """

    def __init__(self, lang: str = "ko", per_page: int = 10, store: bulletin.Board | None = None) -> None:
        import ipywidgets as widgets

        self.store = store or bulletin.Board()
        self.per_page = per_page
        self.table = wards().sort_values(["gu_code", "ward_code"])
        wide = widgets.Layout(width="calc(100% - 4px)", max_width="36em")
        labelled = {"description_width": "initial"}
        self.language = controls.language_buttons(lang)
        self.heading, self.write_heading, self.status, self.page_label = (widgets.HTML(), widgets.HTML(), widgets.HTML(),
                                                                          widgets.HTML())
        self.category_filter = widgets.Dropdown(layout=wide, style=labelled)
        self.dong_filter = widgets.Dropdown(layout=wide, style=labelled)
        self.listing = widgets.VBox()
        self.previous_page, self.next_page = widgets.Button(), widgets.Button()
        self.title = widgets.Text(layout=wide, style=labelled)
        self.body = widgets.Textarea(layout=widgets.Layout(width="calc(100% - 4px)", max_width="36em", height="8em"),
                                     style=labelled)
        self.category = widgets.Dropdown(layout=wide, style=labelled)
        self.dong = widgets.Dropdown(layout=wide, style=labelled)
        self.nickname = widgets.Text(layout=wide, style=labelled)
        self.submit = widgets.Button(button_style="primary")
        self.page = 1
        self.new = None
        self.reported: dict[int, str] = {}  # post id -> answer key, kept across redraws
        self.updating = False
        self.previous_page.on_click(lambda _: self.turn(-1))
        self.next_page.on_click(lambda _: self.turn(1))
        self.category_filter.observe(self.refilter, "value")
        self.dong_filter.observe(self.refilter, "value")
        self.submit.on_click(self.post)
        self.language.observe(self.relabel, "value")

    def t(self, key: str, **values) -> str:
        """The catalogue's text ``key`` in the chosen language."""
        return i18n.text(key, self.language.value, **values)

    def say(self, widget, text: str, ok: bool) -> None:
        """A message in words (role=status), green when done, red when the citizen should act."""
        widget.value = controls.status_html(text, self.language.value, ok)

    def report(self, post_id: int, button, feedback) -> None:
        """Report a post for moderation (once per client)."""
        try:
            new = self.store.report(client_key(), post_id)
        except bulletin.BoardError as error:
            self.say(feedback, error.text(self.language.value), False)
            return
        self.reported[post_id] = "board.reported" if new else "board.already_reported"
        button.disabled = True
        self.say(feedback, self.t(self.reported[post_id]), True)

    def post_box(self, post: bulletin.Post):
        """One post with its own report button and the button's answer under it."""
        import ipywidgets as widgets

        feedback = widgets.HTML()
        button = widgets.Button(description=self.t("board.report"), tooltip=self.t("board.report_this", title=post.title),
                                layout=widgets.Layout(width="auto", align_self="flex-start"))
        button.on_click(lambda _: self.report(post.id, button, feedback))
        if post.id in self.reported:  # reported from this page before a redraw (a new page, the other language)
            button.disabled = True
            self.say(feedback, self.t(self.reported[post.id]), True)
        classes = ["board-item", "board-new"] if post.id == self.new else ["board-item"]
        return widgets.VBox([widgets.HTML(bulletin.post_html(post, self.language.value)), button, feedback],
                            _dom_classes=classes)

    def show(self, *_) -> None:
        """The current page of posts under the filters chosen."""
        import ipywidgets as widgets

        lang = self.language.value
        page = self.store.posts(category=self.category_filter.value or None, ward_code=self.dong_filter.value or None,
                                page=self.page, per_page=self.per_page)
        self.listing.children = ([self.post_box(p) for p in page.items]
                                 or [widgets.HTML(controls.paragraph_html(self.t("board.empty"), lang))])
        self.page_label.value = templating.render("apps/page_label.html.j2", lang=lang,
                                                  text=self.t("board.page", page=page.page, pages=page.pages, total=page.total))
        self.previous_page.disabled, self.next_page.disabled = page.page <= 1, page.page >= page.pages

    def turn(self, step: int) -> None:
        """The page ``step`` pages on (back when negative)."""
        self.page = max(1, self.page + step)
        self.show()

    def refilter(self, *_) -> None:
        """The first page under the filters chosen."""
        if not self.updating:
            self.page = 1
            self.show()

    def post(self, _=None) -> None:
        """Store the post written; on a refusal nothing is stored and the text stays to be fixed."""
        try:
            made = self.store.post(client_key(), self.title.value, self.body.value, self.category.value, self.nickname.value,
                                   ward_code=self.dong.value or None)
        except bulletin.BoardError as error:
            self.say(self.status, error.text(self.language.value), False)
            return
        self.title.value = self.body.value = ""
        self.say(self.status, self.t("board.posted"), True)
        self.updating, self.new = True, made.id
        self.category_filter.value = self.dong_filter.value = ""  # the new post is first in the whole list
        self.updating = False
        self.refilter()

    def relabel(self, *_) -> None:
        """Every label in the chosen language, keeping what the citizen chose and wrote."""
        self.updating = True
        lang, t = self.language.value, self.t
        categories = [(bulletin.category_label(c, lang), c) for c in CATEGORIES]
        dongs = [(i18n.area_name(code, lang), code) for code in self.table["ward_code"]]
        self.heading.value = explorer.app_style() + controls.heading_html(
            t("board.title"), lang, f"{t('board.intro')} {t('board.reports_rule', reporters=self.store.settings.auto_hide_reports)}")
        self.write_heading.value = controls.heading_html(t("board.write"), lang, level=2)
        self.language.description = t("explorer.language")
        for menu, options in ((self.category_filter, [(t("board.all"), "")] + categories),
                              (self.dong_filter, [(t("board.any_dong"), "")] + dongs),
                              (self.category, categories), (self.dong, [(t("board.any_dong"), "")] + dongs)):
            chosen = menu.value
            menu.options = options
            menu.value = chosen if chosen in dict(options).values() else options[0][1]
        self.category_filter.description, self.dong_filter.description = t("board.category"), t("board.dong")
        self.category.description, self.dong.description = t("board.category"), t("board.dong")
        self.title.description, self.body.description, self.nickname.description = (
            t("board.post_title"), t("board.post_body"), t("board.nickname"))
        self.previous_page.description, self.next_page.description, self.submit.description = (
            t("board.previous"), t("board.next"), t("board.submit"))
        self.status.value = ""
        self.updating = False
        self.show()

    def widget(self):
        """Wait for the visitor, list the posts and return the page to display.

        A preheated kernel runs the page before its visitor comes: it waits here for them
        (:func:`~energy_lib.apps.client.client_key` waits for the page's request there, and returns
        at once elsewhere), so that the posts are listed as they are when the page opens, not as
        they were when the kernel was warmed.
        """
        import ipywidgets as widgets

        client_key()
        self.relabel()
        row = widgets.Layout(flex_flow="row wrap", gap="8px")
        return widgets.VBox([
            self.heading, self.language, widgets.Box([self.category_filter, self.dong_filter], layout=row),
            self.listing, widgets.Box([self.previous_page, self.page_label, self.next_page],
                                      layout=widgets.Layout(flex_flow="row wrap", gap="8px", align_items="center")),
            self.write_heading, self.title, self.body, self.category, self.dong, self.nickname, self.submit, self.status,
        ], layout=widgets.Layout(max_width="100%"))
