"""Lifecycle stages: subscriber -> lead -> MQL -> SQL -> customer, each reached at a score."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from patron.errors import Invalid
from patron.storage.schema import score_stages

DEFAULT_STAGES: tuple[tuple[str, float], ...] = (
    ("subscriber", 0),
    ("lead", 10),
    ("MQL", 40),
    ("SQL", 80),
    ("customer", 150),
)
MAX_NAME = 64


def list_stages(conn: Connection) -> list[dict[str, Any]]:
    """The stages, lowest threshold first: [{"name", "threshold"}]."""
    query = select(score_stages.c.name, score_stages.c.threshold).order_by(score_stages.c.position)
    return [{"name": row.name, "threshold": _number(row.threshold)} for row in conn.execute(query)]


def seed_stages(conn: Connection) -> int:
    """The default stages when none are set (stages someone replaced stay theirs); returns how many."""
    if conn.execute(select(score_stages.c.name).limit(1)).first() is not None:
        return 0
    return _store(conn, [{"name": name, "threshold": threshold} for name, threshold in DEFAULT_STAGES])


def replace_stages(conn: Connection, stages: Any) -> list[dict[str, Any]]:
    """Replace every stage with `stages` ([{"name", "threshold"}], any order); Invalid names the item."""
    if not isinstance(stages, list) or not stages:
        raise Invalid('stages must be a non-empty list of {"name", "threshold"}', field="stages")
    names: set[str] = set()
    thresholds: set[float] = set()
    for n, stage in enumerate(stages):
        where = f"stages[{n}]"
        if not isinstance(stage, dict) or set(stage) - {"name", "threshold"}:
            raise Invalid(f'{where} must be {{"name", "threshold"}}', field=where)
        name, threshold = stage.get("name"), stage.get("threshold")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise Invalid(f"{where}.name must be text of 1 to {MAX_NAME} characters", field=f"{where}.name")
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not math.isfinite(threshold)
        ):
            raise Invalid(f"{where}.threshold must be a number", field=f"{where}.threshold")
        if name.strip().lower() in names:
            raise Invalid(
                f"{where}.name: there is already a stage called {name.strip()!r}", field=f"{where}.name"
            )
        if threshold in thresholds:
            raise Invalid(f"{where}.threshold: two stages start at {threshold:g}", field=f"{where}.threshold")
        names.add(name.strip().lower())
        thresholds.add(threshold)
    conn.execute(delete(score_stages))
    _store(conn, [{"name": s["name"].strip(), "threshold": s["threshold"]} for s in stages])
    return list_stages(conn)


def _store(conn: Connection, stages: list[dict[str, Any]]) -> int:
    ordered = sorted(stages, key=lambda stage: stage["threshold"])
    rows = [
        {"name": s["name"], "threshold": float(s["threshold"]), "position": n} for n, s in enumerate(ordered)
    ]
    conn.execute(insert(score_stages), rows)
    return len(rows)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
