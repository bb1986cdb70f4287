"""The one Jinja2 environment that writes every piece of HTML the package produces.

Templates live under ``energy_lib/core/templates/``, a folder per module (``board/post.html.j2``,
``site/page.html.j2``, …). The environment escapes every value it is given (``autoescape`` on
for ``.html``, ``.j2`` and ``.html.j2``), so a text a citizen or a data file wrote can never become
markup; HTML that is safe because another template or a trusted serializer produced it (an SVG from
matplotlib, a table from pandas' ``to_html``) is passed wrapped in :class:`markupsafe.Markup`, and
only such HTML. A missing variable is an error (``StrictUndefined``), not an empty string.

>>> render("live_view/empty.html.j2", lang="en", text="<b>Soon</b>")
'<div class="live-empty" data-testid="live-empty" lang="en" role="status"><p>&lt;b&gt;Soon&lt;/b&gt;</p></div>'
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from markupsafe import Markup  # Jinja2's own safe-string type (markupsafe is its dependency)

__all__ = ["TEMPLATES", "environment", "render", "Markup"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The folder every template is loaded from."""


@functools.cache
def environment() -> jinja2.Environment:
    """The package's Jinja2 environment: one loader over :data:`TEMPLATES`, autoescaping on."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html", "j2", "html.j2"], default=True),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


def render(name: str, /, **values) -> str:
    """Template ``name`` (a path under :data:`TEMPLATES`) filled with ``values``, escaped.

    A plain ``str`` (callers join and compare it as text); a fragment handed on to another
    template goes wrapped in :class:`Markup` so that it is not escaped twice.
    """
    return environment().get_template(name).render(**values)
