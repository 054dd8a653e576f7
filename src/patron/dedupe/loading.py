"""Reading every profile's matching fields into the engine's columnar table, in a few queries."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, select

from patron.dedupe.config import MatchConfig
from patron.dedupe.engine import RecordTable
from patron.identity.rules import IdentityRules
from patron.quality import flags as quality_flags
from patron.storage.schema import identities, profiles
from patron.storage.traits import trait_text

Progress = Callable[[str, int, int], None]
# Identity kinds a profile may hold only one of (user_id by default): two profiles with different
# values are, as far as automatic merging goes, two people.
FETCH_ROWS = 20_000


def load_table(
    conn: Connection, config: MatchConfig, *, rules: IdentityRules, progress: Progress | None = None
) -> RecordTable:
    """One row per profile with the configured traits as text; blocked values read as missing."""
    dialect = conn.dialect.name
    names = list(config.fields)
    columns = [trait_text(dialect, name).label(f"t{index}") for index, name in enumerate(names)]
    query = select(profiles.c.id, profiles.c.quality, *columns).order_by(profiles.c.id)
    ids: list[str] = []
    values: dict[str, list[str | None]] = {name: [] for name in names}
    lists = [values[name] for name in names]
    result = conn.execution_options(yield_per=FETCH_ROWS).execute(query)
    # A value that is not one of its kind ("@outlook.com") says nothing about who someone is.
    invalid = [f" {name}:{quality_flags.INVALID} " for name in names]
    for row in result:
        ids.append(row[0])
        flags = row[1]
        for target, value, marker in zip(lists, row[2:], invalid, strict=True):
            target.append(None if flags and marker in flags else _text(value, rules))
        if progress and len(ids) % FETCH_ROWS == 0:
            progress("Reading profiles", len(ids), 0)
    exclusive: dict[str, list[str | None]] = {}
    position = {pid: index for index, pid in enumerate(ids)}
    for kind in sorted(kind for kind, limit in rules.limits.items() if limit == 1):
        column: list[str | None] = [None] * len(ids)
        held = select(identities.c.profile_id, identities.c.value).where(identities.c.kind == kind)
        for profile_id, value in conn.execute(held):
            index = position.get(profile_id)
            if index is not None:
                column[index] = value
        exclusive[kind] = column
    return RecordTable(ids=ids, values=values, exclusive=exclusive)


def _text(value: object, rules: IdentityRules) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 2119.0 read back from JSON is the postcode 2119
    text = str(value).strip()
    if not text or rules.is_blocked(text):
        return None
    return text
