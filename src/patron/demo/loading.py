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
        plan = load_checker(conn)
    messages = generate_events(exports, seed=seed)
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
            progress("Sending events", min(start + BATCH, len(messages)), len(messages))
    processed = 0
    while True:
        with transaction(engine) as conn:
            done = process_chunk(conn, rules=rules, default_region=default_region)
        if not done.events:
            break
        processed += done.events
        if progress:
            progress("Building timelines", processed, accepted)
    return {"sent": len(messages), "accepted": accepted, "rejected": rejected, "processed": processed}
