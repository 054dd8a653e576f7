"""Reading every profile's matching fields into the engine's columnar table, in a few queries."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from sqlalchemy import Connection, Text, cast, select, type_coerce

from patron.dedupe.config import MatchConfig
from patron.dedupe.engine import RecordTable
from patron.identity.rules import IdentityRules
from patron.quality import flags as quality_flags
from patron.storage.schema import identities, profiles

Progress = Callable[[str, int, int], None]
FETCH_ROWS = 20_000


def load_table(
    conn: Connection, config: MatchConfig, *, rules: IdentityRules, progress: Progress | None = None
) -> RecordTable:
    """One row per profile with the configured traits as text; blocked values read as missing.

    Identity kinds a profile may hold only one of (user_id by default) become exclusive columns:
    two profiles with different values are, as far as automatic merging goes, two people.
    """
    names = list(config.fields)
    # The traits document as text, parsed once per profile here: asking SQLite for each trait
    # (json_extract) parses the document once per trait.
    document = (
        cast(profiles.c.traits, Text)
        if conn.dialect.name == "postgresql"
        else type_coerce(profiles.c.traits, Text)
    )
    query = select(profiles.c.id, profiles.c.quality, document).order_by(profiles.c.id)
    ids: list[str] = []
    values: dict[str, list[str | None]] = {name: [] for name in names}
    columns = [(name, values[name], f" {name}:{quality_flags.INVALID} ") for name in names]
    blocked = rules.blocked_values
    for profile_id, flags, text in conn.execution_options(yield_per=FETCH_ROWS).execute(query):
        ids.append(profile_id)
        traits = orjson.loads(text)
        for name, target, invalid in columns:
            # A value that is not one of its kind ("@outlook.com") says nothing about who someone is.
            value = traits.get(name)
            target.append(None if value is None or (flags and invalid in flags) else _text(value, blocked))
        if progress and len(ids) % FETCH_ROWS == 0:
            progress("Reading profiles", len(ids), 0)
    ids, values = _in_content_order(ids, values)
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


def _in_content_order(
    ids: list[str], values: dict[str, list[str | None]]
) -> tuple[list[str], dict[str, list[str | None]]]:
    """Records ordered by what they hold, not by id. The engine's random sample of pairs and its
    tie-breaks follow record order, and two databases holding the same people give them
    different ids: in content order a run gives the same answer on SQLite and PostgreSQL."""
    columns = list(values.values())
    content = [
        "\x1f".join([column[i] or "" for column in columns]) + "\x1e" + ids[i] for i in range(len(ids))
    ]
    order = sorted(range(len(ids)), key=content.__getitem__)
    return [ids[i] for i in order], {name: [column[i] for i in order] for name, column in values.items()}


def _text(value: object, blocked: frozenset[str]) -> str | None:
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 2119.0 read back from JSON is the postcode 2119
        value = str(value)
    text = value.strip()
    if not text or text.lower() in blocked:
        return None
    return text
