"""Publishing: run the report notebooks with papermill, render them with nbconvert, build the site.

``energy publish`` (and ``make reports``) does three things:

1. the open data (:mod:`energy_lib.publish.opendata`): every published table, aggregated and
   privacy-checked, written once to ``reports/site/data/``; the report notebooks read only these,
   so a report cannot show what the open data does not;
2. the report pages: each notebook of ``notebooks/reports/`` for each of its pages (the city,
   every gu and dong, every building type) and each language, executed by papermill in a pool of
   worker processes. Each worker keeps one kernel and clears its namespace between pages (kernel
   start and imports cost about 3 s a page otherwise; docs/benchmarks.md). nbconvert renders
   HTML without code, with figures embedded, alt text on every image and no CDN script;
3. the index pages, in both languages, with a link to every page and the failures;
4. the Korean font, cut to the characters of the site's pages (:mod:`energy_lib.publish.fonts`).

A page whose inputs did not change (notebook, parameters, open data, library code) is not
executed again: its key is kept in ``reports/site/.build.json``. A failing page is reported with
its error in the build summary and on the index; the other pages still publish.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import multiprocessing
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import energy_lib
from energy_lib.core import i18n, templating
from energy_lib.publish import fonts

__all__ = ["Page", "PageOutcome", "PageResult", "BuildSummary", "plan", "page_key", "code_fingerprint",
           "render_html", "deterministic", "build", "site_css"]


_STATE = ".build.json"
TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The nbconvert template (``workbook/``) and the site's stylesheet."""


@dataclass(frozen=True)
class Page:
    """One published page: a notebook run with parameters, rendered to ``path`` in the site."""

    notebook: str
    parameters: dict
    path: str
    title: str
    section: str

    @property
    def lang(self) -> str:
        return self.parameters["lang"]


class PageOutcome(StrEnum):
    """What happened to a page in a build."""

    EXECUTED = "executed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class PageResult:
    """What happened to a page in a build: ``executed``, ``unchanged`` or ``failed``, and where
    its time went [s]: starting a kernel (first page of a worker), the setup cell (imports and
    loading the open data), the other cells (views and figures) and rendering HTML."""

    path: str
    status: PageOutcome
    seconds: float = 0.0
    error: str = ""
    parts: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildSummary:
    """A build's pages, how long it took and where the time went [s]."""

    results: list[PageResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> list[PageResult]:
        return [r for r in self.results if r.status == PageOutcome.FAILED]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.results:
            out[result.status] = out.get(result.status, 0) + 1
        return out


def site_css(assets: str = "assets/") -> str:
    """The site's stylesheet (inlined in every page, so a page read offline keeps its style);
    ``assets`` is the page's relative path to the site's ``assets/`` folder (fonts, written by
    :func:`energy_lib.publish.fonts.write_site_fonts` at the end of :func:`build`)."""
    return (TEMPLATES / "site.css").read_text("utf-8").replace("{assets}", assets)


def plan(wards, building_types: list[str], languages: tuple[str, ...] = i18n.LANGUAGES, *,
         programmes=None) -> list[Page]:
    """Every page of the site, in a stable order.

    Parameters
    ----------
    wards : pandas.DataFrame
        The ward table (``ward_code``, ``gu_code``, names).
    building_types : list of str
        Building types with a report.
    programmes : pandas.DataFrame, optional
        Programmes with an evaluation report (``programme_id``, ``name_ko``, ``name_en``: the
        open-data table ``programmes``).
    """
    pages = []
    for lang in languages:
        name = "dong_name_ko" if lang == "ko" else "dong_name_en"
        gu_name = "gu_name_ko" if lang == "ko" else "gu_name_en"
        pages.append(Page("city.ipynb", {"lang": lang}, f"{lang}/city.html", i18n.text("title.city", lang), "city"))
        for gu_code, rows in wards.groupby("gu_code", sort=True):
            pages.append(Page("area.ipynb", {"lang": lang, "level": "gu", "code": gu_code}, f"{lang}/gu/{gu_code}.html",
                              rows[gu_name].iloc[0], "gu"))
        for row in wards.sort_values("ward_code").itertuples():
            pages.append(Page("area.ipynb", {"lang": lang, "level": "ward", "code": row.ward_code},
                              f"{lang}/dong/{row.ward_code}.html", f"{getattr(row, gu_name)} {getattr(row, name)}", "dong"))
        for building_type in building_types:
            pages.append(Page("building_type.ipynb", {"lang": lang, "building_type": building_type},
                              f"{lang}/building/{building_type}.html",
                              i18n.text(f"building_type.{building_type}", lang), "building_type"))
        for row in ([] if programmes is None else programmes.sort_values("programme_id").itertuples()):
            name = row.name_ko if lang == "ko" else row.name_en
            pages.append(Page("programme.ipynb", {"lang": lang, "programme_id": row.programme_id},
                              f"{lang}/programme/{row.programme_id}.html", i18n.text("programme.title", lang, name=name),
                              "programme"))
    return pages


def code_fingerprint() -> str:
    """SHA-256 over the library's code, configuration and templates: a change of any of them
    changes every page's key. The font subsetter is left out: it writes no page, and the fonts
    have their own key (:func:`energy_lib.publish.fonts.write_fonts`)."""
    digest = hashlib.sha256()
    root = Path(energy_lib.__file__).parent
    for path in sorted(p for p in root.rglob("*") if p.suffix in {".py", ".toml", ".csv", ".j2", ".css", ".json"}
                       and p != Path(fonts.__file__)):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def page_key(page: Page, data_hash: str, code_hash: str, notebooks: Path) -> str:
    """SHA-256 of everything a page depends on: its notebook (in the folder ``notebooks``),
    parameters, the open data and the code."""
    digest = hashlib.sha256()
    digest.update((notebooks / page.notebook).read_bytes())
    digest.update(json.dumps(page.parameters, sort_keys=True).encode())
    digest.update(data_hash.encode())
    digest.update(code_hash.encode())
    return digest.hexdigest()


def _relative(page_path: str, target: str) -> str:
    depth = page_path.count("/")
    return "../" * depth + target


def navigation(page_path: str, lang: str, other_path: str | None) -> dict:
    """The links at the top of a page: the index, the open data, the same page in the other language."""
    links = [{"href": _relative(page_path, f"{lang}/index.html"), "text": i18n.text("nav.home", lang), "lang": None},
             {"href": _relative(page_path, f"{lang}/city.html"), "text": i18n.text("title.city", lang), "lang": None},
             {"href": _relative(page_path, "data/index.html"), "text": i18n.text("nav.open_data", lang), "lang": None}]
    if other_path:
        other = next(code for code in i18n.LANGUAGES if code != lang)
        links.append({"href": _relative(page_path, other_path), "text": i18n.text("nav.language", other), "lang": other})
    return {"links": links, "label": i18n.text("nav.label", lang), "skip": i18n.text("nav.skip", lang)}


def render_html(notebook, page: Page, other_path: str | None) -> str:
    """HTML of an executed notebook: no code, no prompts, no cells tagged ``notes``, the site's
    style and navigation."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="workbook", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    # cells tagged "notes" speak to whoever opens the notebook, not to the page's readers
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"notes"}), enabled=True)
    exporter.language_code = page.lang
    notebook = deterministic(notebook)
    notebook.metadata["title"] = page.title
    body, _ = exporter.from_notebook_node(notebook, resources={
        "site_css": site_css(_relative(page.path, "assets/")), "site_nav": navigation(page.path, page.lang, other_path)})
    return focusable_tables(body)


_RUN_METADATA = ("papermill", "execution", "collapsed", "scrolled")
"""Cell metadata a run writes (papermill's start and end times and duration, nbclient's
``execution`` timestamps, a front end's view state): about the run, never about the page."""


def deterministic(notebook):
    """A copy of an executed notebook with nothing that differs between two runs of the same inputs.

    Papermill gives the cell it injects (``injected-parameters``) a random id, nbformat gives one
    to any cell that has none, and the lab template writes every cell's id into the page
    (``id="cell-id=..."``); papermill and nbclient stamp the notebook and every cell with times.
    The copy's cells are numbered in order (``cell-0``, ``cell-1``, ...) and those stamps are
    dropped, so two builds of a page from the same inputs are byte-identical. Figures are
    deterministic already (:func:`energy_lib.publish.plots.to_svg` salts matplotlib's ids with the
    alt text and drops the date).
    """
    import copy

    notebook = copy.deepcopy(notebook)
    notebook.metadata.pop("papermill", None)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
        for key in _RUN_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.execution_count = None
            for output in cell.get("outputs", []):
                if "execution_count" in output:
                    output["execution_count"] = None
    return notebook


_UNFOCUSABLE_TABLE = re.compile(r"<table(?![^>]*tabindex)")


def focusable_tables(html_text: str) -> str:
    """Every table made focusable: tables scroll sideways on a phone (site.css), and keyboard
    users must be able to reach what is scrolled out of view (WCAG 2.1.1; axe-core's
    scrollable-region-focusable)."""
    return _UNFOCUSABLE_TABLE.sub('<table tabindex="0"', html_text)


# --- the worker pool: one kernel per worker process, reused across pages ------------------------

_kernel = None
_KERNEL_DEADLINE = 120
"""How long a kernel may take to answer [s]: about 2 s on an idle machine, over 60 s seen on the
2-core machine running the test suite's two workers and a benchmark."""


def _start_kernel(cwd: str):
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=cwd)
    return manager


_RESET = ("get_ipython().run_line_magic('reset', '-f')\n"
          "import matplotlib.pyplot as _plt; _plt.close('all'); del _plt")
"""Run first in every page: clears the kernel's namespace and figures so a page sees nothing of the
page before. It is a cell of the run, not a request of its own: another client would wait about
0.2 s for the kernel's first answer, as papermill's client already does once a page."""
_RESET_TAG = "workbook-reset"


def _with_reset(path: Path):
    """The notebook at ``path`` with the :data:`_RESET` cell first (before the parameters)."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_RESET, metadata={"tags": [_RESET_TAG]}))
    return notebook


def _run(page: Page, site: str, key: str, notebooks: str):
    """``page`` executed by papermill in this worker's kernel, without the reset cell."""
    import papermill

    notebook = papermill.execute_notebook(
        _with_reset(Path(notebooks) / page.notebook), None,
        parameters={**page.parameters, "data_dir": str(Path(site).resolve() / "data"), "input_hash": key[:16]},
        km=_kernel, progress_bar=False, log_output=False, start_timeout=_KERNEL_DEADLINE)
    notebook.cells = [cell for cell in notebook.cells if _RESET_TAG not in cell.metadata.get("tags", [])]
    return notebook


def _execute(job: tuple[Page, str, str | None, str, str]) -> PageResult:
    """Run one page in this worker's kernel and write its HTML; never raises."""
    global _kernel
    page, site, other_path, key, notebooks = job
    started = time.perf_counter()
    target = Path(site) / page.path
    parts = {"kernel": 0.0}
    try:
        if _kernel is None or not _kernel.is_alive():
            _kernel = _start_kernel(notebooks)
            parts["kernel"] = time.perf_counter() - started
        try:
            notebook = _run(page, site, key, notebooks)
        except (RuntimeError, TimeoutError):
            # the kernel did not answer within the deadline (a machine under load, or a kernel
            # wedged by the page before; a page's own errors are PapermillExecutionError): one
            # fresh kernel, then the page fails for real
            _kernel.shutdown_kernel(now=True)
            _kernel = _start_kernel(notebooks)
            parts["kernel"] = time.perf_counter() - started
            notebook = _run(page, site, key, notebooks)
        rendering = time.perf_counter()
        text = render_html(notebook, page, other_path)
        parts["render"] = time.perf_counter() - rendering
    except Exception as error:  # a page's failure is reported, never stops the site
        message = f"{type(error).__name__}: {getattr(error, 'evalue', None) or error}"
        # paths relative to the site: the index pages show the message, and the server's folders
        # are not published (nor does a build elsewhere give another page)
        message = message.replace(str(Path(site).resolve()) + "/", "")
        return PageResult(page.path, PageOutcome.FAILED, time.perf_counter() - started, message.splitlines()[0][:500], parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, "utf-8")
    return PageResult(page.path, PageOutcome.EXECUTED, time.perf_counter() - started, parts=parts | _cell_seconds(notebook))


def _cell_seconds(notebook) -> dict[str, float]:
    """Papermill's duration of the setup cell (the first after the parameters: imports and the
    open data) and of the other cells (views and figures) [s]."""
    durations = [(cell.metadata.get("tags", []), cell.metadata.get("papermill", {}).get("duration") or 0.0)
                 for cell in notebook.cells if cell.cell_type == "code"]
    after = next((i for i, (tags, _) in enumerate(durations) if "injected-parameters" in tags), 0) + 1
    setup = durations[after][1] if after < len(durations) else 0.0
    return {"setup": setup, "cells": sum(d for _, d in durations[after + 1:])}


def _stop_kernel() -> None:
    if _kernel is not None:
        _kernel.shutdown_kernel(now=True)


def _init_worker() -> None:
    atexit.register(_stop_kernel)


def build(site: Path, pages: list[Page], data_hash: str, *, notebooks: Path, workers: int = 2, force: bool = False,
          progress: Callable[[PageResult], None] | None = None) -> BuildSummary:
    """Execute and render the pages whose key changed; write the index pages and the build state.

    Parameters
    ----------
    site : pathlib.Path
        The site folder (``reports/site``); the open data must already be in ``site/data``.
    pages : list of Page
        :func:`plan`.
    data_hash : str
        The open data's hash (:func:`energy_lib.publish.opendata.build` returns it).
    notebooks : pathlib.Path
        The folder of the report notebooks (``notebooks/reports`` of a checkout; ``energy publish
        --notebooks``); each page's notebook is run there, as its own folder.
    workers : int
        Worker processes, each with its own kernel.
    force : bool
        Execute every page, changed or not.
    """
    summary = BuildSummary()
    started = time.perf_counter()
    notebooks = Path(notebooks)
    state_path = site / _STATE
    state = json.loads(state_path.read_text("utf-8")) if state_path.exists() else {}
    code_hash = code_fingerprint()
    by_path = {page.path: page for page in pages}
    jobs = []
    for page in pages:
        key = page_key(page, data_hash, code_hash, notebooks)
        other = _other_language(page, by_path)
        if not force and state.get(page.path) == key and (site / page.path).exists():
            result = PageResult(page.path, PageOutcome.UNCHANGED)
            summary.results.append(result)
            if progress:
                progress(result)
        else:
            jobs.append((page, str(site), other, key, str(Path(notebooks).resolve())))
    summary.seconds["plan"] = time.perf_counter() - started
    keys = {job[0].path: job[3] for job in jobs}
    if jobs:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited kernel or sockets
        pool = context.Pool(min(workers, len(jobs)), initializer=_init_worker)
        try:
            for result in pool.imap_unordered(_execute, jobs):
                summary.results.append(result)
                if result.status == PageOutcome.EXECUTED:
                    state[result.path] = keys[result.path]
                else:
                    state.pop(result.path, None)
                if progress:
                    progress(result)
            pool.close()  # workers exit normally and stop their kernels
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
    summary.seconds["pages"] = time.perf_counter() - started - summary.seconds["plan"]
    summary.results.sort(key=lambda r: r.path)
    write_index(site, pages, summary)
    fonts_started = time.perf_counter()
    fonts.write_site_fonts(site)  # cut to the characters of the pages just written
    summary.seconds["fonts"] = time.perf_counter() - fonts_started
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True), "utf-8")
    summary.seconds["total"] = time.perf_counter() - started
    executed = [r for r in summary.results if r.status == PageOutcome.EXECUTED]
    summary.seconds["page_parts"] = {part: round(sum(r.parts.get(part, 0.0) for r in executed), 2)
                                     for part in ("kernel", "setup", "cells", "render")}
    (site / "build-summary.json").write_text(json.dumps({
        "counts": summary.counts(), "seconds": summary.seconds,
        "failed": [asdict(r) for r in summary.failed]}, indent=1, ensure_ascii=False), "utf-8")
    return summary


def _other_language(page: Page, by_path: dict[str, Page]) -> str | None:
    lang, rest = page.path.split("/", 1)
    for other in i18n.LANGUAGES:
        if other != lang and f"{other}/{rest}" in by_path:
            return f"{other}/{rest}"
    return None


# --- index pages --------------------------------------------------------------------------------

_SECTIONS = ("city", "gu", "dong", "building_type", "programme")


def write_index(site: Path, pages: list[Page], summary: BuildSummary) -> None:
    """``index.html`` (a language choice) and ``<lang>/index.html``: every page by section
    (gu → its dongs), with the pages that failed marked and their error."""
    failed = {r.path: r.error for r in summary.failed}
    for lang in i18n.LANGUAGES:
        mine = [p for p in pages if p.lang == lang]
        if not mine:
            continue
        path = f"{lang}/index.html"

        def item(entry: Page) -> dict:
            return {"title": entry.title, "href": _relative(path, entry.path), "error": failed.get(entry.path)}

        def section(name: str, **content) -> dict:
            return {"heading": i18n.text(f"section.{name}", lang)} | content

        by_section = {name: [p for p in mine if p.section == name] for name in _SECTIONS}
        sections = []
        if by_section["city"]:
            sections.append(section("city", entries=[item(p) for p in by_section["city"]]))
        # gu → its dongs: each gu's report, then the reports of its dongs
        dongs = by_section["dong"]
        gu_codes = [p.parameters["code"] for p in by_section["gu"]]
        nested = [{"title": gu.title, "entry": item(gu),
                   "dongs": [item(d) for d in dongs if d.parameters["code"][:5] == gu.parameters["code"]]}
                  for gu in by_section["gu"]]
        if nested:
            sections.append(section("gu", gus=nested))
        others = [d for d in dongs if d.parameters["code"][:5] not in gu_codes]
        if others:
            sections.append(section("dong", entries=[item(p) for p in others]))
        for name in ("building_type", "programme"):
            if by_section[name]:
                sections.append(section(name, entries=[item(p) for p in by_section[name]]))
        body = templating.render(
            "site/index.html.j2", title=i18n.text("site.title", lang), intro=i18n.text("site.intro", lang),
            failed=i18n.text("site.failed", lang, count=len(failed)) if failed else None,
            page_failed=i18n.text("site.page_failed", lang), dong_heading=i18n.text("section.dong", lang), sections=sections)
        other = next(code for code in i18n.LANGUAGES if code != lang)
        _write_page(site / path, lang, i18n.text("site.title", lang), body,
                    navigation(path, lang, f"{other}/index.html"), "../assets/")
    first = i18n.LANGUAGES[0]
    body = templating.render("site/choice.html.j2", title=i18n.text("site.title", first),
                             choices=[{"lang": lang, "title": i18n.text("site.title", lang)} for lang in i18n.LANGUAGES])
    _write_page(site / "index.html", first, i18n.text("site.title", first), body, None, "assets/")


def _write_page(path: Path, lang: str, title: str, body: str, nav: dict | None, assets: str) -> None:
    """A page of ``templates/site/page.html.j2`` around ``body`` (HTML of another template)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(templating.render("site/page.html.j2", lang=lang, title=title, css=templating.Markup(site_css(assets)),
                                      skip=i18n.text("nav.skip", lang), nav=nav, body=templating.Markup(body)) + "\n", "utf-8")


def provenance_html(data_dir: Path, lang: str, input_hash: str = "") -> str:
    """The provenance box every page ends with: data period, methods, sources, privacy rule,
    code version and the hash of the page's inputs (the open data's hash when run on its own)."""
    from energy_lib.publish import opendata

    info = opendata.manifest(data_dir)
    rule = info["privacy"]
    rows = [
        ("provenance.period", f"{info['period']['start']} – {info['period']['end']}"),
        ("provenance.methods", i18n.text("provenance.methods_text", lang)),
        ("provenance.sources", i18n.text("provenance.sources_text", lang)),
        ("provenance.privacy", i18n.text("provenance.privacy_text", lang, min_customers=rule["min_customers"],
                                         max_share=round(rule["max_share"] * 100))),
        ("provenance.code", info["code_version"]),
        ("provenance.input_hash", input_hash or info["data_hash"][:16]),
    ]
    return templating.render("site/provenance.html.j2", heading=i18n.text("provenance.heading", lang),
                             rows=[{"label": i18n.text(key, lang), "value": value} for key, value in rows])
