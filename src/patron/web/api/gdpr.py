"""/api/v1/profiles/{id}/gdpr: export everything about a person; erase them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks

from patron import gdpr
from patron.web.deps import AdminKey, EngineDep, ReadDB, WriteDB

router = APIRouter(tags=["gdpr"])


@router.post("/profiles/{profile_id}/gdpr/export")
def export_profile(profile_id: str, conn: ReadDB) -> dict[str, Any]:
    """Everything Patron holds about the person (a merged-away id leads to its survivor)."""
    return gdpr.export_profile(conn, gdpr.find_subject(conn, profile_id=profile_id))


@router.post("/profiles/{profile_id}/gdpr/erase")
def erase_profile(
    profile_id: str, conn: WriteDB, engine: EngineDep, key: AdminKey, tasks: BackgroundTasks
) -> dict[str, Any]:
    """Erase the person, keeping only suppression hashes and an erasure record."""
    subject = gdpr.find_subject(conn, profile_id=profile_id)
    # The key's prefix, not the key: enough to tell which integration asked.
    record = gdpr.erase_profile(conn, subject, actor=f"api:{key.prefix}", method="api")
    # Runs after the response, so after WriteDB has committed (it closes before the response is
    # sent): the file scrub must see the deletions.
    tasks.add_task(gdpr.scrub, engine)
    return {"erased": record["erased"], "removed": record["removed"], "erasure_id": record["erasure_id"]}
