"""The demo exports: deterministic, shaped like the apps they imitate, with planted problems."""

from __future__ import annotations

import csv
import io

from patron.demo import generate


def test_the_same_seed_gives_the_same_bytes() -> None:
    first, second = generate(people=600, seed=3), generate(people=600, seed=3)
    assert [e.content for e in first] == [e.content for e in second]
    assert [e.content for e in generate(people=600, seed=4)] != [e.content for e in first]


def test_three_apps_in_their_own_encodings_and_headers() -> None:
    exports = {e.source: e for e in generate(people=600)}
    assert set(exports) == {"shop", "crm", "newsletter"}
    assert exports["shop"].content.startswith(b"\xef\xbb\xbfCustomer ID,First Name")
    crm_header = exports["crm"].content.decode("cp949").splitlines()[0]
    assert crm_header.startswith("고객번호,성,이름,이메일,휴대폰")
    newsletter = list(csv.reader(io.StringIO(exports["newsletter"].content.decode()), delimiter=";"))
    assert newsletter[0] == ["Email Address", "Name", "Subscribed At", "Lists", "Language"]
    assert sum(1 for row in newsletter[1:] if row and len(row) != 5) == 2  # planted malformed rows
