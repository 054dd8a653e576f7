"""Computed traits: values Patron keeps in profiles.traits from events (first/last seen, counts,
sums, first/last of an event, active), usable in segments and templates."""

from patron.computed.definitions import (
    BUILTINS,
    KINDS,
    ComputedTrait,
    computed_names,
    define_computed,
    delete_computed,
    get_computed,
    list_computed,
    refresh,
    seed_builtins,
)

__all__ = [
    "BUILTINS",
    "KINDS",
    "ComputedTrait",
    "computed_names",
    "define_computed",
    "delete_computed",
    "get_computed",
    "list_computed",
    "refresh",
    "seed_builtins",
]
