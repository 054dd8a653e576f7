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


def rows(csv_text: CsvText) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for the header and every row; line numbers as an editor shows them."""
    reader = csv.reader(io.StringIO(csv_text.text, newline=""), delimiter=csv_text.delimiter)
    line = 1
    for fields in reader:
        yield line, fields
        line = reader.line_num + 1


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
