"""Fields: the data dictionary of standard and custom traits, and their types."""

from patron.fields.definitions import (
    STANDARD_FIELDS,
    FieldDefinition,
    check_field_name,
    define_field,
    delete_field,
    field_types,
    get_field,
    is_field_name,
    list_fields,
    register_discovered,
    seed_standard_fields,
    update_field,
)
from patron.fields.types import FIELD_TYPES, coerce, format_datetime, infer_type

__all__ = [
    "FIELD_TYPES",
    "STANDARD_FIELDS",
    "FieldDefinition",
    "check_field_name",
    "coerce",
    "define_field",
    "delete_field",
    "field_types",
    "format_datetime",
    "get_field",
    "infer_type",
    "is_field_name",
    "list_fields",
    "register_discovered",
    "seed_standard_fields",
    "update_field",
]
