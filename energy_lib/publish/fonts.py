"""Web fonts: NanumGothic cut down to the characters a page can show, as WOFF2.

The full NanumGothic files hold all 11,172 modern Hangul syllables and about 4,600 hanja:
2.3 MB each as WOFF, most of a page's first load. The site and the apps get subsets instead
(fontTools' subsetter, written as WOFF2 with Brotli):

- the **static site**: the characters of every page the build wrote (all HTML, inline SVG text
  included), unioned over the site so one file serves every page and stays in the browser's cache;
- the **apps**, whose text is typed or chosen at run time, in two parts: what the apps show by
  themselves (the string catalogue ``energy_lib/config/*.toml``, the reference tables with the
  ward names, the notebooks' text, ASCII, Latin-1, punctuation and Hangul compatibility jamo),
  loaded with every app; and the rest of the 2,350 Hangul syllables of KS X 1001 (every syllable
  the EUC-KR/CP949 encoding can write: what Korean users type in practice), declared with a CSS
  ``unicode-range`` so that a browser fetches it only when a page shows one of them (a post on
  the board). Anything else falls back to the system fonts of the CSS font stack (``site.css``).

Both are deterministic: the same characters and the same source font give the same bytes (the
``head`` table's modification time is kept from the source, not set to the time of the build).
A subset is written only when its key (characters, source font, fontTools version) changed, so an
unchanged build costs a few ``stat`` calls.

References
----------
.. [1] fontTools subset: https://fonttools.readthedocs.io/en/latest/subset/
.. [2] W3C, WOFF File Format 2.0 (2024), https://www.w3.org/TR/WOFF2/
.. [3] KS X 1001:2004, Code for Information Interchange (Hangul and Hanja), rows 16-40.
.. [4] NanumGothic, SIL Open Font License 1.1 (copyright and licence kept in the name table).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
from collections.abc import Iterable
from pathlib import Path

from energy_lib.publish import korean_font

__all__ = ["FONTS", "BASE_CHARACTERS", "APP_SUPPLEMENT", "ks_x_1001_hangul", "characters_of", "site_characters",
           "app_characters", "subset", "write_fonts", "unicode_range", "font_face_css", "write_site_fonts",
           "write_app_fonts"]

FONTS = ("NanumGothic", "NanumGothicBold")
"""The faces the stylesheet declares (regular 400 and bold 700); file ``<name>.woff2``."""

_CACHE = ".fonts.json"
"""In the site folder: each HTML file's characters with its size and modification time, so an
unchanged page is not read again (the subsets' key is in ``assets/fonts.json``)."""

_NAME_IDS = [0, 1, 2, 3, 4, 5, 6, 13, 14]
"""Name-table records kept: copyright, family, style, IDs, version, PostScript name, and the
licence with its URL (SIL OFL 1.1 asks for the copyright and licence to travel with the font)."""


def _ranges(*pairs: tuple[int, int]) -> str:
    return "".join(chr(code) for first, last in pairs for code in range(first, last + 1))


BASE_CHARACTERS = _ranges(
    (0x20, 0x7E),        # ASCII: digits, Latin letters, punctuation
    (0xA0, 0xFF),        # Latin-1: ° · × ² ³ and accented letters of English text
    (0x2010, 0x2027),    # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),    # per mille, primes, angle quotes
    (0x2190, 0x2193),    # arrows
    (0x2212, 0x2212),    # minus sign (NanumGothic has none; the fallback draws it)
    (0x2264, 0x2265),    # ≤ ≥
    (0x3000, 0x3011),    # CJK punctuation: 、 。 「 」 『 』
    (0x3131, 0x318E),    # Hangul compatibility jamo (shown while a syllable is being typed)
    (0x3380, 0x33DD),    # unit symbols: ㎾ ㎿ ㎥ ㎡ ㎏
    (0xFF01, 0xFF5E),    # full-width ASCII
) + "\N{REPLACEMENT CHARACTER}"
"""Characters every subset keeps whatever the text: digits, Latin, punctuation and unit symbols."""


def ks_x_1001_hangul() -> str:
    """The 2,350 precomposed Hangul syllables of KS X 1001 (rows 16-40: EUC-KR bytes 0xB0-0xC8
    then 0xA1-0xFE), in code order.

    These are the syllables the EUC-KR/CP949 common set encodes, which cover nearly all of
    modern written Korean; the other 8,822 of Unicode's 11,172 fall back to the system font.
    """
    return "".join(bytes([lead, trail]).decode("euc_kr") for lead in range(0xB0, 0xC9) for trail in range(0xA1, 0xFF))


def characters_of(text: str) -> set[str]:
    """The characters a text can show once its HTML character references are resolved
    (``&#44305;`` is 광). Markup and attribute values are counted too: a superset costs a few
    glyphs, a missing glyph a fallback font."""
    return set(html.unescape(text)) - {"\n", "\r", "\t"}


def _fingerprint(characters: Iterable[str], sources: list[Path]) -> str:
    import fontTools

    digest = hashlib.sha256("".join(sorted(set(characters))).encode("utf-8", "surrogatepass"))
    digest.update(fontTools.version.encode())
    for path in sources:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def subset(source: Path, characters: Iterable[str]) -> bytes:
    """``source`` (a TrueType file) cut down to ``characters`` as WOFF2 bytes.

    Layout features (kerning, ligatures) and hinting of the kept glyphs are kept; the empty
    hinting-source tables of Microsoft's VTT (``TSI*``, which browsers' font sanitiser rejects)
    are dropped. Characters the font does not have are ignored. The same input gives the same
    bytes.
    """
    from fontTools import subset as fontsubset
    from fontTools.ttLib import TTFont

    options = fontsubset.Options()
    options.flavor = "woff2"
    options.name_IDs = list(_NAME_IDS)
    options.drop_tables = [*options.drop_tables, "TSI0", "TSI1", "TSI2", "TSI3", "TSI5", "TSIB", "TSID", "TSIJ",
                           "TSIP", "TSIS", "TSIV"]
    font = TTFont(source, recalcTimestamp=False, lazy=False)
    subsetter = fontsubset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in set(characters)))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff2"
    font.save(buffer, reorderTables=False)
    return buffer.getvalue()


def _sources() -> list[Path]:
    """The TrueType files of :data:`FONTS`, those the figures use too
    (:func:`energy_lib.publish.korean_font.font_folder`, which raises if they are missing)."""
    folder = korean_font.font_folder()
    return [folder / f"{name}.ttf" for name in FONTS]


def write_fonts(target: Path, characters: Iterable[str], *, suffix: str = "", base: bool = True) -> dict:
    """Write ``<face><suffix>.woff2`` of every face in :data:`FONTS` into ``target``, cut to
    ``characters`` (and :data:`BASE_CHARACTERS` when ``base``); nothing is written when the files
    are there and their key (characters, source fonts, fontTools version) is the one in
    ``target/fonts<suffix>.json``.

    Returns
    -------
    dict
        ``key``, ``characters`` (how many) and ``bytes`` per file [B]; also in ``target/fonts<suffix>.json``.
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in FONTS:  # the whole faces as WOFF (2.3 MB each) that earlier versions wrote here
        (target / f"{name}.woff").unlink(missing_ok=True)
    characters = set(characters) | (set(BASE_CHARACTERS) if base else set())
    sources = _sources()
    key = _fingerprint(characters, sources)
    stamp = target / f"fonts{suffix}.json"
    if stamp.exists():
        known = json.loads(stamp.read_text("utf-8"))
        if known.get("key") == key and all((target / f"{name}{suffix}.woff2").exists() for name in FONTS):
            return known
    sizes = {}
    for name, source in zip(FONTS, sources):
        data = subset(source, characters)
        (target / f"{name}{suffix}.woff2").write_bytes(data)
        sizes[f"{name}{suffix}.woff2"] = len(data)
    info = {"key": key, "characters": len(characters), "bytes": sizes}
    stamp.write_text(json.dumps(info, indent=1, sort_keys=True), "utf-8")
    return info


def unicode_range(characters: Iterable[str]) -> str:
    """The CSS ``unicode-range`` of ``characters``: runs of consecutive code points as ranges
    (``U+AC00-AC02, U+AC05``), in code order."""
    codes = sorted({ord(c) for c in characters})
    runs: list[list[int]] = []
    for code in codes:
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return ", ".join(f"U+{first:X}" if first == last else f"U+{first:X}-{last:X}" for first, last in runs)


def font_face_css(url: str, characters: Iterable[str] | None = None) -> str:
    """``@font-face`` rules of the regular (400) and bold (700) NanumGothic faces [CSS]: ``url``
    with ``{face}`` for the face's name (:data:`FONTS`); limited to ``characters`` by
    ``unicode-range`` when given (a browser then downloads a file only for text with one of its
    characters)."""
    limit = f" unicode-range: {unicode_range(characters)};" if characters is not None else ""
    return "".join(f'@font-face {{ font-family: "NanumGothic"; src: url("{url.format(face=face)}") format("woff2"); '
                   f"font-weight: {weight}; font-display: swap;{limit} }}\n" for face, weight in zip(FONTS, (400, 700)))


def site_characters(site: Path) -> set[str]:
    """The characters of every HTML file of the site, read again only for files whose size or
    modification time changed (per-file characters are kept in ``site/.fonts.json``)."""
    cache_path = site / _CACHE
    cache = json.loads(cache_path.read_text("utf-8")) if cache_path.exists() else {}
    fresh, characters = {}, set()
    for path in sorted(site.rglob("*.html")):
        name = path.relative_to(site).as_posix()
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        known = cache.get(name)
        if known and known[0] == stamp:
            chars = known[1]
        else:
            chars = "".join(sorted(characters_of(path.read_text("utf-8")) - set(BASE_CHARACTERS)))
        fresh[name] = [stamp, chars]
        characters.update(chars)
    if fresh != cache:
        cache_path.write_text(json.dumps(fresh, ensure_ascii=False, sort_keys=True), "utf-8")
    return characters


def write_site_fonts(site: Path) -> dict:
    """The site's fonts in ``site/assets/``: the characters of all its pages (:func:`site_characters`)."""
    return write_fonts(site / "assets", site_characters(site))


def app_characters(notebooks: Path | None = None) -> set[str]:
    """What the apps show by themselves: the catalogue and other configuration
    (``config/*.toml``), the reference tables (ward names), the apps' controllers
    (``apps/*_app.py``) and the text of the notebooks in
    ``notebooks`` and its sub-folders (the apps, and the reports the ward explorer shows).

    The site's own pages are not read, so the apps' fonts do not change with every build of the
    site; a report's text comes from the same catalogue, reference tables and notebooks.
    """
    package = Path(__file__).resolve().parents[1]
    characters: set[str] = set()
    sources = [*(package / "config").glob("*.toml"), *(package / "core" / "reference").glob("*.csv"),
               *(package / "apps").glob("*_app.py")]  # the apps' controllers (the language buttons' names)
    if notebooks is not None:
        sources += notebooks.rglob("*.ipynb")
    for path in sorted(sources):
        characters |= characters_of(path.read_text("utf-8"))
    return characters


APP_SUPPLEMENT = "-more"
"""Suffix of the apps' second font files: the rest of KS X 1001's Hangul."""


def write_app_fonts(target: Path, notebooks: Path | None = None) -> dict:
    """The apps' fonts in ``target`` (``notebooks/apps/assets``), in two parts:

    - ``NanumGothic.woff2`` and ``NanumGothicBold.woff2``: :func:`app_characters` and
      :data:`BASE_CHARACTERS`, what every app shows (the stylesheet, ``site.css``, declares them);
    - ``NanumGothic-more.woff2`` and ``NanumGothicBold-more.woff2``: the rest of KS X 1001's 2,350
      syllables (what a citizen may type on the board), declared in ``target/fonts.css`` with
      their ``unicode-range``, so a browser downloads them only for a page that has one of
      those syllables.

    Returns
    -------
    dict
        ``{"shown": ..., "more": ...}``: each part's :func:`write_fonts` information.
    """
    shown = app_characters(notebooks) | set(BASE_CHARACTERS)
    more = set(ks_x_1001_hangul()) - shown
    info = {"shown": write_fonts(target, shown), "more": write_fonts(target, more, suffix=APP_SUPPLEMENT, base=False)}
    css = ("/* NanumGothic: the rest of KS X 1001's Hangul, loaded only for text that has it "
           "(energy_lib/publish/fonts.py) */\n" + font_face_css(f"{{face}}{APP_SUPPLEMENT}.woff2", more))
    if not (target / "fonts.css").exists() or (target / "fonts.css").read_text("utf-8") != css:
        (target / "fonts.css").write_text(css, "utf-8")
    return info
