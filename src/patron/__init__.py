"""Patron: one clean profile per person, consent by construction, campaigns that act in seconds."""

__version__ = "0.1.0"
