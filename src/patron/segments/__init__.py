"""Segments: definitions as a JSON tree or text (this module's first part; compiling to SQL,
membership and real-time re-evaluation follow with the segments issue)."""

from patron.segments.definition import check_tree, parse, to_text

__all__ = ["check_tree", "parse", "to_text"]
