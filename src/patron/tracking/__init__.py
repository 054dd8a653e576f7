"""Tracking: Segment-compatible ingest, events and the tracking plan."""
