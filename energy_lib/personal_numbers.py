"""Numbers that identify a person, found in text a citizen writes (the bulletin board).

Three kinds, looked for in this order so that each digit run is named once:

* **resident registration numbers** (주민등록번호): six digits of a birth date, a hyphen and seven
  digits whose first is 1–8 (``######-#######``), or the thirteen digits run together when the
  first six are a valid ``YYMMDD``;
* **phone numbers**: Korean mobile (``010``, ``011``, ``016``–``019``), area-code (``02``,
  ``031``–``064``) and internet-phone (``070``) numbers, with or without hyphens, spaces or dots,
  and with ``+82`` in front;
* **customer numbers**: any other run of 9 to 14 digits, whole or in groups joined by hyphens or
  spaces. The utilities' customer numbers are 9 to 12 digits (the demo's: electricity and gas 10,
  water 9; KEPCO's 고객번호 is 10), and no number a resident needs to share on the board (a date,
  a bill in won written with commas, a reading in kWh) has nine digits in a row.

Digits are compared after Unicode NFKC normalisation, so full-width digits (０１０) count too.
Representative numbers of businesses (``1588-0000``) have eight digits and are allowed.

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
_DIGIT_RUN = re.compile(r"(?<![\d,.])\d(?:[ \-]?\d){8,13}(?![\d,]|\.\d)")


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
    normal = unicodedata.normalize("NFKC", text)
    taken: list[tuple[int, int]] = []
    found: list[Found] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    def add(kind: str, match: re.Match) -> None:
        taken.append(match.span())
        found.append(Found(kind, match.start(), match.end(), mask(match.group(0))))

    for match in _RESIDENT.finditer(normal):
        hyphen = "-" in match.group(0)
        if hyphen or _valid_birth_date(match.group(2), match.group(3)):
            add("resident_number", match)
    for match in _PHONE.finditer(normal):
        if free(*match.span()):
            add("phone", match)
    for match in _DIGIT_RUN.finditer(normal):
        if free(*match.span()):
            add("customer_number", match)
    return tuple(sorted(found, key=lambda f: f.start))
