"""The tracking plan's rules: which events exist, what their properties hold, how names are written.

Every ingested message is checked, thousands a second, so a PlanChecker works out once per
event what the check needs (required names, a type table, a compiled validator only when the
schema says more than types and required) and the hot path is dictionary look-ups.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import fastjsonschema

from patron.errors import Invalid
from patron.fields.types import FIELD_TYPES
from patron.tracking.conventions import NAMING_STYLES, check_name

EVENT_STATUSES = ("planned", "unplanned")
JSON_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")
VIOLATION_KINDS = (
    "unplanned_event",
    "missing_property",
    "wrong_type",
    "invalid_property",
    "event_naming",
    "property_naming",
    "trait_naming",
)

# Keywords that describe without constraining: a schema of these, types and `required` is
# checked entirely by the type table, with no validator call.
_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "$schema", "$id", "id", "deprecated"}
    | {"readOnly", "writeOnly"}
)
_PLAIN_TOP = _ANNOTATIONS | {"type", "required", "properties"}
_PLAIN_PROPERTY = _ANNOTATIONS | {"type"}
# The JSON type of the values json/orjson produce; anything else takes the slow path (_has_type).
_KIND = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
    type(None): "null",
}
_ARTICLE = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}
# fastjsonschema's wording, said the way a person would.
_PHRASES = (
    ("must be bigger than or equal to", "must be at least"),
    ("must be smaller than or equal to", "must be at most"),
    ("must be bigger than", "must be more than"),
    ("must be smaller than", "must be less than"),
    ("must be longer than or equal to", "must have at least"),
    ("must be shorter than or equal to", "must have at most"),
    ("must be multiple of", "must be a multiple of"),
)


@dataclass(frozen=True, slots=True)
class Conventions:
    """How event, property and trait names are written: one of NAMING_STYLES each."""

    events: str = "object_action"
    properties: str = "snake_case"
    traits: str = "snake_case"

    def __post_init__(self) -> None:
        for part in ("events", "properties", "traits"):
            style = getattr(self, part)
            if style not in NAMING_STYLES:
                raise Invalid(
                    f"conventions.{part}: {style!r} is not a naming style ({', '.join(NAMING_STYLES)})",
                    field=f"conventions.{part}",
                )


@dataclass(frozen=True, slots=True)
class EventDefinition:
    """One event of the plan; `schema` is a JSON Schema for its properties object."""

    name: str
    description: str = ""
    owner: str = ""
    schema: dict | None = None
    # "unplanned": seen in data and put in the dictionary, but nobody has planned it yet.
    status: str = "planned"

    def __post_init__(self) -> None:
        if self.status not in EVENT_STATUSES:
            raise Invalid(f"status {self.status!r} is not one of {', '.join(EVENT_STATUSES)}", field="status")


@dataclass(frozen=True, slots=True)
class TraitDefinition:
    """One profile trait of the plan, typed like the data dictionary's fields."""

    name: str
    type: str
    description: str = ""
    owner: str = ""

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise Invalid(f"type {self.type!r} is not one of {', '.join(FIELD_TYPES)}", field="type")


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a message breaks the plan, with a sentence a person understands."""

    kind: str
    # The event name, or identify/page/screen/group for traits and page properties.
    subject: str
    # The property or trait concerned, "" when the whole message is.
    detail: str
    message: str


@dataclass(frozen=True, slots=True)
class CompiledSchema:
    """What checking properties against one event's schema needs, worked out once."""

    schema: Mapping[str, Any]
    required: tuple[str, ...]
    # Property -> the JSON types its value may have ("number" admits "integer", as in JSON Schema).
    types: dict[str, frozenset[str]]
    # Only for schemas that constrain more than top-level types and `required`.
    validator: Callable[[Any], Any] | None


def compile_schema(schema: Any, *, path: str = "schema") -> CompiledSchema:
    """Prepare `schema` for checking properties; Invalid names the place (from `path`) when it is unusable."""
    if not isinstance(schema, Mapping):
        raise Invalid(
            f"{path}: a schema is a JSON object such as {{'type': 'object', 'properties': {{...}}}}, "
            f"not {_describe(schema)}",
            field=path,
        )
    top_type = schema.get("type", "object")
    if top_type != "object" and not (isinstance(top_type, list) and "object" in top_type):
        raise Invalid(
            f"{path}.type: an event's properties are a JSON object, so the type must be 'object', "
            f"not {top_type!r}",
            field=f"{path}.type",
        )
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise Invalid(f"{path}.required: must be a list of property names", field=f"{path}.required")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise Invalid(
            f"{path}.properties: must map each property name to its schema", field=f"{path}.properties"
        )
    types: dict[str, frozenset[str]] = {}
    needs_validator = any(key not in _PLAIN_TOP for key in schema)
    for name, sub in properties.items():
        where = f"{path}.properties.{name}"
        if isinstance(sub, bool):
            needs_validator = needs_validator or not sub
            continue
        if not isinstance(sub, Mapping):
            raise Invalid(f"{where}: must be a schema (a JSON object), not {_describe(sub)}", field=where)
        if "type" in sub:
            types[name] = _allowed_types(sub["type"], f"{where}.type")
        needs_validator = needs_validator or any(key not in _PLAIN_PROPERTY for key in sub)
    validator = _compile(schema, path) if needs_validator else None
    return CompiledSchema(schema, tuple(dict.fromkeys(required)), types, validator)


def properties_schema(properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON Schema of a properties object from the shorthand {name: {type, required, ...}}."""
    return {
        "type": "object",
        "properties": {
            name: {key: value for key, value in spec.items() if key != "required"}
            for name, spec in properties.items()
        },
        "required": sorted(name for name, spec in properties.items() if spec.get("required")),
    }


class PlanChecker:
    """Checks messages against one version of the plan; build it once, use it for many messages."""

    __slots__ = ("conventions", "_event_style", "_property_style", "_trait_style", "_planned", "_discovered")

    def __init__(self, conventions: Conventions, events: Iterable[EventDefinition]) -> None:
        self.conventions = conventions
        self._event_style = _style(conventions.events)
        self._property_style = _style(conventions.properties)
        self._trait_style = _style(conventions.traits)
        self._planned: dict[str, CompiledSchema | None] = {}
        self._discovered: set[str] = set()
        for definition in events:
            name = definition.name
            if name in self._planned or name in self._discovered:
                raise Invalid(
                    f"event {name!r} is defined twice in the tracking plan; keep one definition",
                    field="events",
                )
            if definition.status == "unplanned":
                self._discovered.add(name)
            else:
                self._planned[name] = None if definition.schema is None else _compile_event(definition)

    def is_planned(self, event: str) -> bool:
        """Whether the plan defines `event` (one only discovered in data does not count)."""
        return event in self._planned

    def check_track(self, event: str, properties: dict) -> list[Violation]:
        """How a track message breaks the plan: naming, unplanned, missing, wrong type, invalid properties."""
        violations: list[Violation] = []
        if self._event_style is not None:
            reason = check_name(self._event_style, event)
            if reason is not None:
                violations.append(Violation("event_naming", event, "", f"event name {reason}"))
        style = self._property_style
        if style is not None:
            for key in properties:
                reason = check_name(style, key)
                if reason is not None:
                    violations.append(Violation("property_naming", event, key, f"{event}: property {reason}"))
        if event not in self._planned:
            violations.append(self._unplanned(event))
            return violations
        compiled = self._planned[event]
        if compiled is None:
            return violations
        for name in compiled.required:
            if name not in properties:
                violations.append(
                    Violation(
                        "missing_property", event, name, f"{event}: property {name!r} is required but missing"
                    )
                )
        mistyped: set[str] = set()
        types = compiled.types
        if types:
            for name, value in properties.items():
                allowed = types.get(name)
                if (
                    allowed is not None
                    and _KIND.get(type(value)) not in allowed
                    and not _has_type(value, allowed)
                ):
                    mistyped.add(name)
                    violations.append(_wrong_type(event, name, value, compiled))
        if compiled.validator is not None:
            try:
                compiled.validator(properties)
            except fastjsonschema.JsonSchemaValuesException as exc:
                violations.extend(_invalid_properties(event, properties, compiled, exc.errors, mistyped))
        return violations

    def check_properties(self, subject: str, properties: dict) -> list[Violation]:
        """Property names of a page or screen message that break the naming convention."""
        style = self._property_style
        if style is None:
            return []
        violations = []
        for key in properties:
            reason = check_name(style, key)
            if reason is not None:
                violations.append(Violation("property_naming", subject, key, f"{subject}: property {reason}"))
        return violations

    def check_traits(self, subject: str, traits: dict) -> list[Violation]:
        """Trait names of an identify or group message that break the naming convention."""
        style = self._trait_style
        if style is None:
            return []
        violations = []
        for key in traits:
            reason = check_name(style, key)
            if reason is not None:
                violations.append(Violation("trait_naming", subject, key, f"{subject}: trait {reason}"))
        return violations

    def _unplanned(self, event: str) -> Violation:
        if event in self._discovered:
            message = f"{event}: event has been seen but is not planned yet; describe it in the tracking plan"
        else:
            message = f"{event}: event is not in the tracking plan; add it to the plan or correct the name"
        return Violation("unplanned_event", event, "", message)


def _style(style: str) -> str | None:
    return None if style == "none" else style


def _compile_event(definition: EventDefinition) -> CompiledSchema:
    try:
        return compile_schema(definition.schema, path="schema")
    except Invalid as exc:
        raise Invalid(f"event {definition.name!r}: {exc.message}", field=exc.field) from None


def _allowed_types(declared: Any, where: str) -> frozenset[str]:
    names = declared if isinstance(declared, list) else [declared]
    for name in names:
        if not isinstance(name, str) or name not in JSON_TYPES:
            raise Invalid(
                f"{where}: {name!r} is not a JSON Schema type ({', '.join(JSON_TYPES)})", field=where
            )
    if not names:
        raise Invalid(f"{where}: list at least one JSON Schema type ({', '.join(JSON_TYPES)})", field=where)
    allowed = frozenset(names)
    return allowed | {"integer"} if "number" in allowed else allowed


class _NoRemoteReferences(Mapping[str, Callable[[str], Any]]):
    """A handler for every URI scheme, refusing: a plan must not make the server fetch URLs ($ref)."""

    def __getitem__(self, scheme: str) -> Callable[[str], Any]:
        return _refuse_remote

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _refuse_remote(uri: str) -> Any:
    raise fastjsonschema.JsonSchemaDefinitionException(
        f"$ref {uri!r} points outside the schema; copy what it refers to into the schema's definitions"
    )


def _compile(schema: Mapping[str, Any], path: str) -> Callable[[Any], Any]:
    try:
        # use_default=False: filling in defaults would change the message being checked.
        # fast_fail=False: report every failure, not only the first.
        return fastjsonschema.compile(
            dict(schema), handlers=_NoRemoteReferences(), use_default=False, fast_fail=False
        )
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        reason = str(exc)
        if reason == "Unknown type":
            reason = f"a type is not a JSON Schema type ({', '.join(JSON_TYPES)})"
    except re.error as exc:
        reason = f"a pattern is not a valid regular expression ({exc})"
    except (
        Exception
    ) as exc:  # fastjsonschema's code generator fails with TypeError etc. on malformed keywords
        reason = f"is not a valid JSON Schema ({type(exc).__name__}: {exc})"
    raise Invalid(f"{path}: {reason}", field=path)


def _has_type(value: Any, allowed: frozenset[str]) -> bool:
    """The slow path for values _KIND does not settle: subclasses, Decimal, integral floats."""
    if isinstance(value, bool):
        return "boolean" in allowed
    if isinstance(value, int):
        return "integer" in allowed
    if isinstance(value, float | Decimal):
        # JSON Schema: a number with a zero fractional part is an integer (3.0 passes "integer").
        is_integral = math.isfinite(value) and value == int(value)
        return "number" in allowed or (is_integral and "integer" in allowed)
    if isinstance(value, str):
        return "string" in allowed
    if isinstance(value, Mapping):
        return "object" in allowed
    if isinstance(value, list | tuple):
        return "array" in allowed
    return value is None and "null" in allowed


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float | Decimal):
        return "a number" if math.isfinite(value) and value == int(value) else "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return "null" if value is None else f"a {type(value).__name__}"


def _type_label(declared: Any) -> str:
    names = declared if isinstance(declared, list) else [declared]
    return " or ".join(_ARTICLE.get(name, repr(name)) for name in names)


def _wrong_type(event: str, name: str, value: Any, compiled: CompiledSchema) -> Violation:
    expected = _type_label(compiled.schema["properties"][name]["type"])
    message = f"{event}: property {name!r} is {_describe(value)} but the plan says {expected}"
    return Violation("wrong_type", event, name, message)


def _invalid_properties(
    event: str,
    properties: dict,
    compiled: CompiledSchema,
    errors: list[fastjsonschema.JsonSchemaValueException],
    mistyped: set[str],
) -> list[Violation]:
    """The validator's failures not already reported as missing or wrong-typed properties."""
    violations = []
    for error in errors:
        name = error.name or "data"
        if name == "data" and error.rule == "required":
            continue
        detail = _top_level_property(name, properties)
        if detail in mistyped or (
            error.rule == "type" and name == f"data.{detail}" and detail in compiled.types
        ):
            continue
        if name == "data" and error.rule == "additionalProperties" and error.rule_definition is False:
            for extra in _extra_properties(properties, error.definition):
                message = f"{event}: property {extra!r} is not in the plan, and this event allows no others"
                violations.append(Violation("invalid_property", event, extra, message))
            continue
        violations.append(Violation("invalid_property", event, detail, f"{event}: {_readable(error, name)}"))
    return violations


def _top_level_property(name: str, properties: Mapping[str, Any]) -> str:
    """The top-level property a failure at fastjsonschema's `name` (data.a.b[0]) lies under."""
    if not name.startswith("data."):
        return ""
    rest = name[len("data.") :]
    # Property names may themselves hold '.' or '[', so match the keys actually sent.
    keys = [key for key in properties if rest == key or rest.startswith((key + ".", key + "["))]
    return max(keys, key=len) if keys else re.split(r"[.\[]", rest, maxsplit=1)[0]


def _extra_properties(properties: Mapping[str, Any], schema: Any) -> list[str]:
    declared = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
    patterns = schema.get("patternProperties", {}) if isinstance(schema, Mapping) else {}
    return [
        key
        for key in properties
        if key not in declared and not any(re.search(pattern, key) for pattern in patterns)
    ]


def _readable(error: fastjsonschema.JsonSchemaValueException, name: str) -> str:
    where = "properties" if name == "data" else f"property {name[len('data.') :]!r}"
    if error.rule == "type":
        return f"{where} must be {_type_label(error.rule_definition)}"
    if error.rule == "required" and isinstance(error.value, Mapping):
        missing = [key for key in error.rule_definition or [] if key not in error.value]
        return f"{where} is missing required {', '.join(repr(key) for key in missing)}"
    body = error.message[len(name) :].strip() if error.message.startswith(name) else error.message
    for said, meant in _PHRASES:
        body = body.replace(said, meant)
    return f"{where} {body}"
