"""Data rights: export everything about a person, erase them leaving only suppression hashes and
an erasure record, and scrub the database files afterwards."""

from patron.gdpr.erase import erase_profile
from patron.gdpr.export import export_profile
from patron.gdpr.scrub import scrub
from patron.gdpr.subject import find_subject

__all__ = ["erase_profile", "export_profile", "find_subject", "scrub"]
