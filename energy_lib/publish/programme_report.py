"""The sections of a programme evaluation report (``notebooks/reports/programme.ipynb``).

Participants are compared with matched non-participants by difference in differences
(:mod:`energy_lib.evaluation`, run by ``energy compute``); the page reads the open data's
``programme_*`` tables, withheld where fewer than 15 participants or comparison sites were
evaluated. :func:`open_programme` reads one programme's rows; each other function displays one
section: its heading, its words and its figure or table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from energy_lib.core import i18n
from energy_lib.evaluation import EvaluationSettings
from energy_lib.publish import charts, opendata, significance
from energy_lib.publish.report import Report

__all__ = ["Programme", "open_programme", "title", "result", "event_study", "savings", "cost", "prosumers",
           "groups", "method"]

_DECIMALS = {"native": 0, "kwh": 0, "toe": 2, "kgco2eq": 0, "won": 0}
"""Decimals shown of each quantity of the savings table ([native unit], [kWh], [toe], [kgCO2eq], [won])."""


@dataclass(frozen=True)
class Programme:
    """One programme's rows of the open data, with the report they are shown in."""

    report: Report
    programme_id: str
    info: pd.Series
    effects: pd.DataFrame
    study: pd.DataFrame
    balance: pd.DataFrame
    savings: pd.DataFrame
    cost: pd.DataFrame
    prosumers: pd.DataFrame
    settings: EvaluationSettings
    minimum: int

    @property
    def name(self) -> str:
        return self.info["name_ko"] if self.report.lang == "ko" else self.info["name_en"]

    @property
    def published(self) -> pd.DataFrame:
        """The carriers whose effect is published (not withheld)."""
        return self.effects[~self.effects["suppressed"]]


def open_programme(report: Report, programme_id: str) -> Programme:
    """Read the rows of ``programme_id`` from the open data of ``report``.

    Raises
    ------
    ValueError
        If the open data has no programme ``programme_id``.
    """
    programmes = opendata.read(report.data, "programmes").set_index("programme_id")
    if programme_id not in programmes.index:
        raise ValueError(f"programme_id must be one of {', '.join(programmes.index)}, not {programme_id!r}")
    tables = {}
    for name in ("effects", "event_study", "balance", "savings", "cost", "prosumers"):
        table = opendata.read(report.data, f"programme_{name}")
        tables[name] = table[table["programme_id"] == programme_id]
    return Programme(report=report, programme_id=programme_id, info=programmes.loc[programme_id],
                     effects=tables["effects"], study=tables["event_study"], balance=tables["balance"],
                     savings=tables["savings"], cost=tables["cost"], prosumers=tables["prosumers"],
                     settings=EvaluationSettings.configured(),
                     minimum=opendata.manifest(report.data)["privacy"]["min_customers"])


def title(programme: Programme) -> None:
    """The page's title and introduction: the programme, its start, participants and cost."""
    report, info = programme.report, programme.info
    lang = report.lang
    cost_text = i18n.number(info["cost_won_per_participant"], lang, unit=report.text("programme.won"))
    intro = report.text("programme.intro" if pd.notna(info["cost_won_per_participant"]) else "programme.intro_no_cost",
                        name=programme.name, start=info["starts_on"], participants=i18n.number(info["participants"], lang),
                        cost=cost_text)
    report.headline(report.text("programme.title", name=programme.name), intro)


def _confidence(programme: Programme) -> str:
    return i18n.number(programme.settings.confidence * 100, programme.report.lang) + "%"  # [fraction] → [%]


def result(programme: Programme) -> None:
    """The result in words, each carrier: saved or used more per participant, with its interval,
    and whether it can be told apart from no effect (:func:`energy_lib.publish.significance.includes_zero`)."""
    report = programme.report
    t, lang = report.text, report.lang
    report.heading("programme.result_heading")
    sentences = []
    for row in programme.effects.itertuples():
        carrier = t("carrier." + row.carrier)
        if row.suppressed:
            sentences.append(t("programme.withheld", carrier=carrier, minimum=programme.minimum))
            continue
        per = programme.savings.query("carrier == @row.carrier and scope == 'per_participant' and unit == 'native'").iloc[0]
        key = "programme.saved" if per["estimate"] >= 0 else "programme.used_more"
        sentences.append(t(key, carrier=carrier, estimate=i18n.number(abs(per["estimate"]), lang, 1), unit=row.unit,
                           level=_confidence(programme), low=i18n.number(per["low"], lang, 1),
                           high=i18n.number(per["high"], lang, 1)))
        if significance.includes_zero(per["low"], per["high"]):
            sentences.append(t("programme.not_significant", carrier=carrier))
    report.paragraphs(*(sentences or [t("programme.no_evaluation")]))


def event_study(programme: Programme) -> None:
    """Each published carrier's event study: the difference month by month around enrolment."""
    if not len(programme.published):
        return
    report = programme.report
    report.heading("programme.event_heading")
    report.say("programme.event_text")
    study = programme.study
    for row in programme.published.itertuples():
        charts.event_study(study[study["carrier"] == row.carrier], lang=report.lang, carrier=row.carrier, unit=row.unit,
                           transition_months=programme.settings.transition_months).show()


def savings_table(programme: Programme) -> pd.DataFrame:
    """The savings per participant and of all participants, each quantity (native unit, [kWh],
    [toe], [kgCO2eq], [won]) with its interval, formatted for the page."""
    report = programme.report
    t, lang = report.text, report.lang
    table = programme.savings
    # electricity and heat are already in kWh: their `kwh` rows would repeat the `native` ones
    shown = table[~table["suppressed"] & ~((table["unit"] == "kwh") & table["carrier"].isin(["electricity", "heat"]))]
    units = {"native": dict(zip(programme.effects["carrier"], programme.effects["unit"])), "kwh": "kWh", "toe": "toe",
             "kgco2eq": "kgCO2eq", "won": t("programme.won")}
    shown = shown.assign(text=[f"{i18n.number(r.estimate, lang, _DECIMALS[r.unit])} ({i18n.number(r.low, lang, _DECIMALS[r.unit])}"
                               f" ~ {i18n.number(r.high, lang, _DECIMALS[r.unit])})" for r in shown.itertuples()])
    pivot = shown.pivot_table(index=["carrier", "unit"], columns="scope", values="text", aggfunc="first", sort=False)
    return pd.DataFrame({
        t("column.carrier"): [t("carrier." + c) for c, _ in pivot.index],
        t("programme.quantity"): [units["native"][c] if u == "native" else units[u] for c, u in pivot.index],
        t("programme.per_participant"): pivot["per_participant"].to_numpy(),
        t("programme.all_participants"): pivot["all_participants"].to_numpy(),
    })


def savings(programme: Programme) -> None:
    """The section "savings": :func:`savings_table` with its explanation."""
    if not len(programme.published):
        return
    report = programme.report
    report.heading("programme.savings_heading")
    report.paragraphs(report.text("programme.savings_text"), table=savings_table(programme))


def cost(programme: Programme) -> None:
    """Public cost [won], the savings' value [won], payback [years] with its interval, and cost per tCO2eq [won]."""
    if not len(programme.published):
        return
    report = programme.report
    t, lang = report.text, report.lang
    report.heading("programme.cost_heading")
    row = programme.cost.iloc[0] if len(programme.cost) else None
    if row is None or row["suppressed"] or pd.isna(row["public_cost_won"]):
        report.say("programme.cost_unknown")
        return
    won = t("programme.won")

    def years(value: float) -> str:
        return t("programme.never") if np.isinf(value) else i18n.number(value, lang, 1)

    report.say("programme.cost_text", cost=i18n.number(row["public_cost_won"], lang, unit=won),
               savings=i18n.number(row["savings_won"], lang, unit=won), payback=years(row["payback_years"]),
               low=years(row["payback_years_low"]), high=years(row["payback_years_high"]),
               per_tonne=i18n.number(row["won_per_tco2eq"], lang, unit=won))


def _share(value: float, lang: str) -> str:
    return i18n.number(value, lang, 0, percent=True).lstrip("+")


def prosumers(programme: Programme) -> None:
    """For a solar programme: generation, the share used at home and what came from the grid [kWh]."""
    usable = programme.prosumers[~programme.prosumers["suppressed"]]
    if not len(usable):
        return
    report = programme.report
    lang = report.lang
    row = usable.iloc[0]
    report.heading("programme.prosumer_heading")
    report.say("programme.prosumer_text", generation=i18n.number(row["generation"], lang),
               self_consumed=i18n.number(row["self_consumed"], lang), share=_share(row["self_consumed_share"], lang),
               low=_share(row["self_consumed_share_low"], lang), high=_share(row["self_consumed_share_high"], lang),
               grid=i18n.number(row["grid_use"], lang), gross=i18n.number(row["gross_use"], lang))
    charts.prosumer_balance(row, lang=lang).show()


def groups(programme: Programme) -> None:
    """Each carrier's comparison group: its size, how well it is balanced on each covariate
    (standardised mean differences before and after matching) and the pre-trend test
    (:func:`energy_lib.publish.significance.pretrend_rejected`)."""
    if not len(programme.published):
        return
    report = programme.report
    t, lang = report.text, report.lang
    report.heading("programme.group_heading")
    covariates = {"use_per_day": t("programme.covariate_use_per_day"), "level": t("programme.covariate_level"),
                  "heating_ratio": t("programme.covariate_heating_ratio"),
                  "cooling_ratio": t("programme.covariate_cooling_ratio"),
                  "floor_area_m2": t("programme.covariate_floor_area_m2")}
    balance = programme.balance
    for row in programme.published.itertuples():
        parts = [t("programme.group_text", carrier=t("carrier." + row.carrier), participants=i18n.number(row.participants, lang),
                   k=programme.settings.controls_per_participant, controls=i18n.number(row.controls, lang),
                   in_gu=_share(row.matched_in_gu, lang))]
        own = balance[(balance["carrier"] == row.carrier) & balance["smd_after"].notna()]
        off = [covariates[c] for c in own.loc[~own["balanced"].astype(bool), "covariate"]]
        parts.append(t("programme.balance_not", names=", ".join(off)) if off else t("programme.balance_ok"))
        rejected = significance.pretrend_rejected(row.pretrend_p_value, programme.settings.confidence)
        if rejected is not None:  # not testable with very few sites
            parts.append(t("programme.pretrend_warn" if rejected else "programme.pretrend_ok",
                           p=i18n.number(row.pretrend_p_value, lang, 2)))
        table = pd.DataFrame({
            t("programme.covariate"): [covariates[c] for c in own["covariate"]],
            t("programme.participants"): [i18n.number(v, lang, 2) for v in own["participants"]],
            t("programme.candidates"): [i18n.number(v, lang, 2) for v in own["candidates"]],
            t("programme.matched"): [i18n.number(v, lang, 2) for v in own["matched"]],
            t("programme.smd_before"): [i18n.number(v, lang, 2) for v in own["smd_before"]],
            t("programme.smd_after"): [i18n.number(v, lang, 2) for v in own["smd_after"]],
        })
        report.paragraphs(*parts, table=table)


def method(programme: Programme) -> None:
    """How the evaluation was made, in words."""
    programme.report.heading("programme.method_heading")
    programme.report.say("programme.method_text")
