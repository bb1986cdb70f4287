"""Numbers that identify a person, found in text a citizen writes (the bulletin board).

Three kinds, looked for in this order so that each digit run is named once:

* **resident registration numbers** (주민등록번호): six digits of a birth date, a hyphen and seven
  digits whose first is 1–8 (``######-#######``), or the thirteen digits run together when the
  first six are a valid ``YYMMDD``;
* **phone numbers**: Korean mobile (``010``, ``011``, ``016``–``019``), area-code (``02``,
  ``031``–``064``) and internet-phone (``070``) numbers, with or without hyphens, spaces or dots,
  and with ``+82`` in front;
* **customer numbers**: any other run of 9 to 14 digits, whole or in groups joined by hyphens
  (``6100-000003``), or by spaces in the layout of a printed number (a first group of 2 to 4
  digits, then groups of exactly 4: ``01 2345 6789``). The utilities' customer numbers are 9 to
  12 digits (the demo's, :func:`energy_lib.demo.city.households`: electricity and gas 10, water
  9; KEPCO's 고객번호 is 10, read by the ingest as text), and no number a resident needs to share
  on the board has nine digits in a row: a date (8), a bill in won written with commas, a
  reading in kWh. Numbers written with a unit (``150000000원``, ``123456789 kWh``) or a currency
  sign are amounts, not customer numbers; so are lists of quantities (``320 310 290 kWh``) and
  of years (``2023 2024 2025``).

Digits are compared after Unicode NFKC normalisation, so full-width digits (０１０) and full-width
hyphens count too, and every kind of dash (‐, –, —, −, and the Hangul ㅡ people type for one)
counts as a hyphen. Representative numbers of businesses (``1588-0000``) have eight digits and
are allowed.

>>> [(f.kind, f.masked) for f in find("연락 주세요 010-1234-5678")]
[('phone', '***-****-5678')]
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["KINDS", "Found", "find", "mask"]

KINDS = ("resident_number", "phone", "customer_number")
"""The kinds of number :func:`find` reports, in the order it looks for them."""

_SEP = r"[ \-.]?"
_RESIDENT = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})\s*-?\s*([1-8]\d{6})(?!\d)")
_PHONE = re.compile(
    r"(?<![\d+])(?:\+82[ \-]?|0)"  # the country code replaces the trunk 0
    r"(?:1[016-9]|2|[3-6][1-5]|70)\)?" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}(?!\d)")
# Digit groups joined by single hyphens or spaces; not part of a decimal or comma-grouped amount.
_NUMBER_RUN = re.compile(r"(?<![\d,.])\d+(?:[ \-]\d+)*(?![\d,]|\.\d)")
_CUSTOMER_DIGITS = (9, 14)
_AMOUNT_AFTER = re.compile(r"\s?(?:원|won|krw|[kmg]?wh|kw|m3|m³|%|명|가구|세대|톤|kg|만|억|천)", re.IGNORECASE)
_AMOUNT_BEFORE = re.compile(r"(?:[₩$]|krw)\s?$", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")
# Dashes people type between digits, all read as "-": NFKC leaves them as they are. The Hangul
# vowel ㅡ (U+3161, which NFKC makes U+1173) is typed for a dash to slip a number past filters.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\u1173", "-"))


@dataclass(frozen=True)
class Found:
    """A personal number in a text: its ``kind`` (one of :data:`KINDS`), where it is
    (``start``, ``end``: positions in the NFKC-normalised text) and ``masked``, the number with all
    but its last four digits replaced by ``*`` (safe to show back to the writer)."""

    kind: str
    start: int
    end: int
    masked: str


def mask(number: str) -> str:
    """``number`` with every digit but the last four as ``*``; separators kept."""
    digits = sum(char.isdigit() for char in number)
    seen, out = 0, []
    for char in number:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - 4 else "*")
        else:
            out.append(char)
    return "".join(out)


def _looks_like_customer_number(run: str) -> bool:
    """Whether ``run`` (digit groups joined by one kind of separator) is laid out as a customer
    number: 9 to 14 digits, hyphen-joined in any grouping, space-joined only as a printed number
    is (2 to 4 digits, then groups of 4) and not as a list of years."""
    groups = re.split(r"[ \-]", run)
    digits = sum(map(len, groups))
    if not _CUSTOMER_DIGITS[0] <= digits <= _CUSTOMER_DIGITS[1]:
        return False
    if " " not in run:
        return True
    if "-" in run:  # mixed separators: not one number, its parts are judged alone
        return False
    printed = 2 <= len(groups[0]) <= 4 and all(len(group) == 4 for group in groups[1:])
    return printed and not all(_YEAR.fullmatch(group) for group in groups)


def _customer_numbers(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of customer numbers in the run ``text[start:end]``: the whole run if it is laid out
    as one, else each of its space-separated parts that is; never an amount (a unit after it or
    a currency sign before it)."""
    def amount(a: int, b: int) -> bool:
        return bool(_AMOUNT_AFTER.match(text, b) or _AMOUNT_BEFORE.search(text, 0, a))

    run = text[start:end]
    if _looks_like_customer_number(run):
        return [] if amount(start, end) else [(start, end)]
    parts = [(start + part.start(), start + part.end()) for part in re.finditer(r"[^ ]+", run)] if " " in run else []
    return [(a, b) for a, b in parts if _looks_like_customer_number(text[a:b]) and not amount(a, b)]


def _valid_birth_date(month: str, day: str) -> bool:
    return 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def find(text: str) -> tuple[Found, ...]:
    """Every resident registration, phone and customer number in ``text``, in order of position.

    Parameters
    ----------
    text : str
        What a citizen wrote.

    Returns
    -------
    tuple of Found
        Empty when the text holds none.
    """
    normal = unicodedata.normalize("NFKC", text).translate(_DASHES)
    taken: list[tuple[int, int]] = []
    found: list[Found] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(kind: str, start: int, end: int) -> None:
        taken.append((start, end))
        found.append(Found(kind, start, end, mask(normal[start:end])))

    for match in _RESIDENT.finditer(normal):
        hyphen = "-" in match.group(0)
        if hyphen or _valid_birth_date(match.group(2), match.group(3)):
            add("resident_number", *match.span())
    for match in _PHONE.finditer(normal):
        if free(*match.span()):
            add("phone", *match.span())
    for match in _NUMBER_RUN.finditer(normal):
        for span in _customer_numbers(normal, *match.span()):
            if free(*span):
                add("customer_number", *span)
    return tuple(sorted(found, key=lambda f: f.start))
