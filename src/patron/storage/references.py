"""Tables whose rows belong to one profile and follow it when profiles merge or unmerge.

A merge moves every row of these tables from the absorbed profile to the survivor with one
statement per table. Each capability that keeps per-profile rows (consents, subscriptions,
scores, segment memberships, journey states) registers its table here, so merging needs no
knowledge of it; to be undone exactly, its moved row ids must also be kept in the merge record,
as events' are (profiles.merges.absorbed_rows), and handed back by dedupe/unmerging.py. Rows
that need more than a move (account memberships have a composite key; merge candidates are
re-paired) are handled in profiles.merges.move_profile_rows, and consent (ledgers move, state is
replayed, the stricter state wins) in patron.consent.merging.
"""

from __future__ import annotations

from sqlalchemy import Table

from patron.storage.schema import events

MOVED_ON_MERGE: tuple[tuple[Table, str], ...] = ((events, "profile_id"),)
