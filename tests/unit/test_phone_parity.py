"""The fast phone library must give phonenumbers' answers: same E.164, same valid/invalid."""

from __future__ import annotations

import random

import phonenumbers
import pytest

rphonenumbers = pytest.importorskip("rphonenumbers")


def corpus() -> list[tuple[str, str | None]]:
    """Numbers as people type them, valid and not, in the regions Patron's users work in."""
    rng = random.Random(20261122)
    samples: list[tuple[str, str | None]] = []
    for _ in range(4000):
        kind = rng.randrange(10)
        if kind == 0:
            samples.append((f"010-{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}", "KR"))
        elif kind == 1:
            samples.append(
                (f"0{rng.randrange(2, 70)}-{rng.randrange(10**3, 10**4)}-{rng.randrange(10**4):04d}", "KR")
            )
        elif kind == 2:
            samples.append(
                (f"({rng.randrange(200, 999)}) {rng.randrange(200, 999)}-{rng.randrange(10**4):04d}", "US")
            )
        elif kind == 3:
            samples.append((f"+1 {rng.randrange(200, 999)} {rng.randrange(10**7):07d}", None))
        elif kind == 4:
            samples.append((f"07{rng.randrange(10**9):09d}", "GB"))
        elif kind == 5:
            samples.append((f"+44 20 {rng.randrange(10**4):04d} {rng.randrange(10**4):04d}", "KR"))
        elif kind == 6:
            samples.append((f"090-{rng.randrange(10**4):04d}-{rng.randrange(10**4):04d}", "JP"))
        elif kind == 7:
            samples.append((f"+49 30 {rng.randrange(10**8):08d}", "DE"))
        elif kind == 8:
            samples.append((f"+82{rng.randrange(10**9, 10**10)}", "US"))
        else:
            samples.append(
                (
                    rng.choice(
                        [
                            "123",
                            "010-12",
                            "abc",
                            "+",
                            "02-000-0000",
                            "0",
                            "+82 10 1234 5678 ext. 9",
                            "1-800-FLOWERS",
                            "(415) 555-0199",
                            "+800 1234 5678",
                            "  ",
                        ]
                    ),
                    "KR",
                )
            )
    return samples


def answer(library, raw: str, region: str | None) -> tuple:
    try:
        number = library.parse(raw, region)
    except library.NumberParseException as exc:
        return ("unparsable", int(exc.error_type))
    return (
        library.format_number(number, library.PhoneNumberFormat.E164),
        library.is_valid_number(number),
        int(library.number_type(number)),
    )


def test_fast_library_agrees_with_phonenumbers() -> None:
    disagreements = [
        (raw, region, expected, got)
        for raw, region in corpus()
        if (expected := answer(phonenumbers, raw, region)) != (got := answer(rphonenumbers, raw, region))
    ]
    assert disagreements == []
