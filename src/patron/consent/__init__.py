"""Consent and preferences: topics, region policy, the append-only ledger and the state derived
from it, suppression, signed public links, double opt-in, and the send gate every message must pass."""

from patron.consent.gate import Decision, audience, audience_query, can_send
from patron.consent.ledger import Change, LedgerRow, ledger_of, record, record_many, refresh_states, states_of
from patron.consent.model import (
    CHANNELS,
    FREQUENCIES,
    GLOBAL,
    LEGAL_BASES,
    METHODS,
    NONE,
    PENDING,
    STATES,
    SUBSCRIBED,
    UNSUBSCRIBED,
)
from patron.consent.preferences import Preferences, get_preferences, set_preferences
from patron.consent.regions import policies, set_policy
from patron.consent.status import consent_of
from patron.consent.subscribe import (
    CONFIRMATION_JOB,
    Outcome,
    change_consent,
    confirm_request,
    confirmation_message,
    expire_lapsed,
    preferred_language,
    queue_confirmation,
    survivor,
)
from patron.consent.suppression import hash_address, suppress_address
from patron.consent.tokens import LinkToken, links_for, list_unsubscribe_headers
from patron.consent.topics import Topic, create_topic, get_topic, list_topics, update_topic

__all__ = [
    "CHANNELS",
    "CONFIRMATION_JOB",
    "FREQUENCIES",
    "GLOBAL",
    "LEGAL_BASES",
    "METHODS",
    "NONE",
    "PENDING",
    "STATES",
    "SUBSCRIBED",
    "UNSUBSCRIBED",
    "Change",
    "Decision",
    "LedgerRow",
    "LinkToken",
    "Outcome",
    "Preferences",
    "Topic",
    "audience",
    "audience_query",
    "can_send",
    "change_consent",
    "confirm_request",
    "confirmation_message",
    "consent_of",
    "create_topic",
    "expire_lapsed",
    "get_preferences",
    "get_topic",
    "hash_address",
    "ledger_of",
    "links_for",
    "list_unsubscribe_headers",
    "list_topics",
    "policies",
    "preferred_language",
    "queue_confirmation",
    "record",
    "record_many",
    "refresh_states",
    "set_policy",
    "set_preferences",
    "states_of",
    "suppress_address",
    "survivor",
    "update_topic",
]
