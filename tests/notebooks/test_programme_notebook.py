"""The programme report notebook on the 4,000-household recovery city, where the balcony PV
programme has enough participants to publish its evaluation."""

from __future__ import annotations

import pytest
from nbcheck import alt_texts, outputs

pytestmark = pytest.mark.xdist_group("recovery")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_programme_report_shows_the_evaluation(execute, recovery_open_data, lang):
    """Balcony PV on the 4,000-household city: the estimate with its interval, the event study,
    savings in five units, cost-effectiveness, the prosumer balance and the comparison group."""
    from energy_lib.core import i18n

    notebook = execute("notebooks/reports/programme.ipynb", lang=lang, programme_id="balcony_pv",
                       data_dir=str(recovery_open_data["data"]))
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs(notebook))
    for key in ("result_heading", "event_heading", "savings_heading", "cost_heading", "prosumer_heading",
                "group_heading", "method_heading"):
        assert i18n.text(f"programme.{key}", lang) in html, key
    assert "kgCO2eq" in html and "toe" in html and i18n.text("programme.won", lang) in html
    alts = alt_texts(notebook)
    assert len(alts) == 2  # the event study and the prosumer balance
    if lang == "en":
        assert not any("가" <= ch <= "힣" for alt in alts for ch in alt)
        assert "each participant used" in html and "less a year" in html
