"""Loading the demo's tracking plan and events through the same ingest path as the API."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from patron.demo.behaviour import DEMO_PLAN_YAML, generate_events
from patron.demo.generate import DemoExport
from patron.identity.rules import IdentityRules
from patron.storage.engine import transaction
from patron.tracking.dictionary import apply_plan, load_checker
from patron.tracking.intake import Source, prepare, store
from patron.tracking.plan_files import load_yaml
from patron.tracking.processing import process_chunk

BATCH = 500
Progress = Callable[[str, int, int], None]


def load_demo_events(
    engine: Engine,
    exports: Sequence[DemoExport],
    *,
    seed: int,
    rules: IdentityRules,
    default_region: str | None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Load the demo plan, send the demo's events as the web shop would, build the timelines."""
    with transaction(engine) as conn:
        apply_plan(conn, load_yaml(DEMO_PLAN_YAML))
    messages = generate_events(exports, seed=seed)
    return send_events(
        engine, messages, rules=rules, default_region=default_region, progress=progress,
        labels=("Sending events", "Building timelines"),
    )  # fmt: skip


def send_events(
    engine: Engine,
    messages: list[dict[str, Any]],
    *,
    rules: IdentityRules,
    default_region: str | None,
    progress: Progress | None = None,
    labels: tuple[str, str] = ("Sending events", "Building timelines"),
) -> dict[str, Any]:
    """Send messages through /v1's intake as the web shop would, then process them into timelines."""
    with transaction(engine, write=False) as conn:
        plan = load_checker(conn)
    source = Source("web", "flag")
    accepted = rejected = 0
    for start in range(0, len(messages), BATCH):
        prepared = prepare(messages[start : start + BATCH], source=source, received_at=datetime.now(UTC),
                           rules=rules, plan=plan)  # fmt: skip
        with transaction(engine) as conn:
            result = store(conn, prepared)
        accepted += result.accepted
        rejected += len(result.rejected)
        if progress:
            progress(labels[0], min(start + BATCH, len(messages)), len(messages))
    processed = 0
    while True:
        with transaction(engine) as conn:
            done = process_chunk(conn, rules=rules, default_region=default_region)
        if not done.events:
            break
        processed += done.events
        if progress:
            progress(labels[1], processed, accepted)
    return {"sent": len(messages), "accepted": accepted, "rejected": rejected, "processed": processed}
