"""After an erasure commits: make sure the deleted bytes are gone from the database's files too."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine

from patron.storage.engine import writer_lock

CHECKPOINT_ATTEMPTS = 10
CHECKPOINT_PAUSE_S = 0.2


def scrub(engine: Engine) -> dict[str, Any]:
    """Call after the erasing transaction has committed. Returns {"vacuumed", "checkpointed"}.

    SQLite: a deleted row's bytes stay in free pages of the database file, and the WAL keeps
    earlier copies of the pages, until overwritten. With `PRAGMA secure_delete=ON` SQLite zeroes
    deleted content as it frees it; otherwise the whole file is rebuilt (VACUUM, which takes time
    on a large database). Then a TRUNCATE checkpoint copies the WAL into the file and empties the
    WAL, so no older page version survives there either.

    PostgreSQL: nothing to do. The rows are gone from every query and every replica; their dead
    tuples stay unreachable in the table files until autovacuum reuses the space.
    """
    if engine.dialect.name != "sqlite":
        return {"vacuumed": False, "checkpointed": False}
    with writer_lock(engine), engine.connect() as conn:
        # Straight to the driver: VACUUM and checkpoints cannot run inside the transaction
        # SQLAlchemy would begin, and pysqlite is in autocommit mode (storage.engine._on_connect).
        driver = conn.connection.driver_connection
        assert driver is not None
        secure = bool(driver.execute("PRAGMA secure_delete").fetchone()[0])
        if not secure:
            driver.execute("VACUUM")
        checkpointed = False
        for _ in range(CHECKPOINT_ATTEMPTS):
            busy, _log, _done = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                checkpointed = True
                break
            time.sleep(CHECKPOINT_PAUSE_S)  # a reader still holds an old snapshot of the WAL
    return {"vacuumed": not secure, "checkpointed": checkpointed}
