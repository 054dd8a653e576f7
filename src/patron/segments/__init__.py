"""Segments: definitions as a JSON tree or text, compiled to set-based SQL, with membership kept
current on every write and at every time boundary."""

from patron.segments.compile import condition, matching, moment
from patron.segments.definition import check_tree, parse, to_text
from patron.segments.membership import (
    ENTERED,
    EXITED,
    Changes,
    cross_boundaries,
    evaluate,
    forget,
    member_ids,
    members,
    react,
    recent_changes,
    segments_of,
    size_history,
)
from patron.segments.store import (
    Segment,
    create_segment,
    delete_segment,
    find_segment,
    get_segment,
    get_segment_by_name,
    list_segments,
    preview,
    referring,
    segments_using_traits,
    update_segment,
)

__all__ = [
    "ENTERED",
    "EXITED",
    "Changes",
    "Segment",
    "check_tree",
    "condition",
    "create_segment",
    "cross_boundaries",
    "delete_segment",
    "evaluate",
    "find_segment",
    "forget",
    "get_segment",
    "get_segment_by_name",
    "list_segments",
    "matching",
    "member_ids",
    "members",
    "moment",
    "parse",
    "preview",
    "react",
    "recent_changes",
    "referring",
    "segments_of",
    "segments_using_traits",
    "size_history",
    "to_text",
    "update_segment",
]
