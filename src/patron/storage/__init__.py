"""Storage: tables, engines, transactions and migrations. Domain nouns build on this."""

from patron.storage.engine import is_postgresql, make_engine, transaction
from patron.storage.ids import new_id
from patron.storage.types import utcnow

__all__ = ["is_postgresql", "make_engine", "new_id", "transaction", "utcnow"]
