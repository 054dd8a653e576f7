"""Reading CSV exports as people actually produce them: BOMs, Korean Excel (CP949), ';' or tabs."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from patron.errors import Invalid

DELIMITERS = (",", ";", "\t", "|")
# Above this share of broken sequences the file is not UTF-8 with a few bad rows but another
# encoding altogether (Korean Excel saves CP949 by default).
_UTF8_BROKEN_SHARE = 0.05
_UNDECODABLE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True, slots=True)
class CsvText:
    """A decoded CSV and what was detected about it."""

    text: str
    encoding: str
    delimiter: str
    # True when some bytes could not be decoded; only then are cells checked one by one.
    has_undecodable: bool = False

    @property
    def estimated_rows(self) -> int:
        """Data rows if no field spans lines (for progress bars only)."""
        return max(self.text.count("\n") - (0 if self.text.endswith("\n") else -1) - 1, 0)


def decode(data: bytes, *, encoding: str | None = None) -> CsvText:
    """Decode bytes: UTF-8 (with or without BOM), else CP949; bad bytes become per-row errors."""
    if encoding:
        try:
            text = data.decode(encoding, errors="surrogateescape")
        except LookupError:
            raise Invalid(f"unknown encoding {encoding!r}", field="encoding") from None
        return CsvText(_strip_bom(text), encoding, sniff_delimiter(text), bool(count_undecodable(text)))
    try:
        text = _strip_bom(data.decode("utf-8"))
        return CsvText(text, "utf-8", sniff_delimiter(text))
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", errors="surrogateescape")
    chosen = "utf-8"
    if count_undecodable(text) > _UTF8_BROKEN_SHARE * sum(1 for byte in data if byte >= 0x80):
        try:
            text, chosen = data.decode("cp949"), "cp949"
        except UnicodeDecodeError:
            text, chosen = data.decode("cp949", errors="surrogateescape"), "cp949"
    text = _strip_bom(text)
    return CsvText(text, chosen, sniff_delimiter(text), bool(count_undecodable(text)))


class MalformedRow(list[str]):
    """The cells of a row the CSV itself makes unreadable (a quote never closed), and why.

    A list, so everything that shows a row's cells shows these; whoever turns rows into
    records must reject it with `reason` instead of reading the cells.
    """

    def __init__(self, cells: list[str], reason: str) -> None:
        super().__init__(cells)
        self.reason = reason


def rows(csv_text: CsvText) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for the header and every row; line numbers as an editor shows them.

    A quote that is never closed would swallow the lines after it into one field; that row
    comes out as a MalformedRow and reading goes on from the line after the quote's.
    """
    # strict=True costs nothing per row (the same C parser) and is what notices a runaway
    # quote, only then doing any work: it fails at the end of the file inside a quoted field,
    # at the next quote when text follows it (that quote was meant to open a later field), or
    # at the csv module's field size limit (131,072 characters, four times Excel's largest
    # cell). No limit on line breaks: Excel writes multi-line addresses and notes, and a
    # runaway already ends at the next quote in the file, in a real export a few rows on. What
    # stays unseen is a runaway closed by a stray quote at the end of a later field; then the
    # row's field count is usually wrong and the importer rejects it as malformed.
    text, delimiter = csv_text.text, csv_text.delimiter
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    first_line, first_offset = 1, 0  # where `reader` started reading
    line = 1
    while True:
        try:
            for fields in reader:
                yield line, fields
                line = first_line + reader.line_num
            return
        except csv.Error as error:
            problem = str(error)
        last_line = first_line + reader.line_num - 1
        starts = _line_starts(text, stream.tell(), line, last_line, first_offset)
        resume, found = _recover(problem, text, delimiter, starts, line, last_line)
        yield line, found
        if resume <= last_line:  # the lines after the quote's were swallowed: read them again
            first_line, first_offset = resume, starts[resume - line]
            stream.seek(first_offset)
            reader = csv.reader(stream, delimiter=delimiter, strict=True)
        line = resume


def _line_starts(text: str, end: int, first: int, last: int, floor: int) -> list[int]:
    """Offsets where lines `first`..`last` start, then `end` (where line `last` ends), walking
    back from `end`; no line starts before `floor`. Costs the length of those lines."""
    offsets = [end]
    for _ in range(last - first + 1):
        body_end = end
        if end - 2 >= floor and text.startswith("\r\n", end - 2):
            body_end -= 2
        elif end > floor and text[end - 1] in "\r\n":
            body_end -= 1
        # StringIO(newline="") ends a line at \n, \r\n or a lone \r; so does this.
        found = max(text.rfind("\n", floor, body_end), text.rfind("\r", floor, body_end))
        end = found + 1 if found >= 0 else floor
        offsets.append(end)
    offsets.reverse()
    return offsets


def _recover(
    error: str, text: str, delimiter: str, starts: list[int], first: int, last: int
) -> tuple[int, list[str]]:
    """After the strict reader failed on the row of lines `first`..`last` (starting at `starts`):
    the line to read on from, and the row's cells or a MalformedRow saying why it is unreadable."""

    def cells(upto: int) -> list[str]:  # lines first..upto read leniently as one row
        return _lenient_cells(text[starts[0] : starts[upto - first + 1]].rstrip("\r\n"), delimiter)

    too_long = "field larger than field limit" in error
    at_end = "unexpected end of data" in error
    if last == first and too_long:
        line_text = text[starts[0] : starts[1]].rstrip("\r\n")
        reason = (
            f"field too long: a field on line {first} is longer than the {csv.field_size_limit():,} "
            "characters a field may hold"
        )
        return last + 1, MalformedRow(line_text.split(delimiter), reason)
    if last == first and not at_end:
        # A quote followed by more text within one line ('"Seoul" Korea'): read as the csv
        # module always has, 'Seoul Korea'.
        return last + 1, cells(first)
    # The runaway field is the one still open at the end of the last line it surely holds; it
    # opened on the first line whose lenient reading reaches that field (usually `first`, later
    # when a multi-line field closed properly before it).
    holds = last if at_end else last - 1
    runaway = len(cells(holds))
    low, high = first, holds
    while low < high:
        middle = (low + high) // 2
        if len(cells(middle)) < runaway:
            low = middle + 1
        else:
            high = middle
    opened = low
    if at_end:
        how = "is never closed (it runs to the end of the file)"
    elif too_long:
        how = f"runs on past {csv.field_size_limit():,} characters (to line {last}) without closing"
    else:
        how = f"is not closed properly (the next quote, on line {last}, has more text after it)"
    after = "; the lines after it were read as rows of their own" if opened < last else ""
    reason = (
        f"unclosed quote: the quoted field opened on line {opened} {how}{after}. Close the quote, "
        'or write a quote inside a value as two ("")'
    )
    return opened + 1, MalformedRow(cells(opened), reason)


def _lenient_cells(row_text: str, delimiter: str) -> list[str]:
    """The cells of one row's text as the forgiving parser reads them (an open quote ends with the text)."""
    try:
        return next(csv.reader(io.StringIO(row_text, newline=""), delimiter=delimiter), [])
    except csv.Error:  # a field still too long: show the text as it is
        return row_text.split(delimiter)


def sniff_delimiter(text: str) -> str:
    """The delimiter used most on the header line."""
    header = text.split("\n", 1)[0]
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def count_undecodable(text: str) -> int:
    """How many bytes could not be decoded (kept as lone surrogates)."""
    return len(_UNDECODABLE.findall(text))


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text
