"""The report pages' HTML fragments (core/templates/report/): escaped words, nothing printed for
what a section does not have."""

from __future__ import annotations

from energy_lib.core import templating


def test_paragraphs_without_a_table_print_nothing_for_it():
    assert templating.render("report/paragraphs.html.j2", paragraphs=["a", "b"], table=None) == "<p>a</p><p>b</p>"


def test_paragraphs_escape_the_words_and_keep_the_table():
    html = templating.render("report/paragraphs.html.j2", paragraphs=["homes' use < 5"],
                             table=templating.Markup("<table></table>"))
    assert html == "<p>homes&#39; use &lt; 5</p><table></table>"


def test_a_heading_and_a_title():
    assert templating.render("report/heading.html.j2", level=2, text="월별") == "<h2>월별</h2>"
    assert templating.render("report/title.html.j2", title="광주", intro="소개") == "<h1>광주</h1><p>소개</p>"
