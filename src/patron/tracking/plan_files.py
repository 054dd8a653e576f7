"""The tracking plan as files: YAML kept in Git, and the data dictionary as CSV or Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from patron.errors import Invalid
from patron.fields.types import FIELD_TYPES
from patron.tracking.plan import (
    JSON_TYPES,
    Conventions,
    EventDefinition,
    PlanChecker,
    TraitDefinition,
    properties_schema,
)

SOURCE_MODES = ("allow", "flag", "block")
_TOP_LEVEL = ("conventions", "sources", "events", "traits")
_EVENT_KEYS = ("name", "description", "owner", "properties", "schema")


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """Everything a plan file says."""

    conventions: Conventions = field(default_factory=Conventions)
    events: list[EventDefinition] = field(default_factory=list)
    traits: list[TraitDefinition] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


def load_yaml(text: str) -> PlanDocument:
    """Read a plan file; Invalid names the place (e.g. events[1].properties.revenue.type)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise Invalid(
            f"the plan is not valid YAML{where}: {getattr(exc, 'problem', exc)}", field="plan"
        ) from None
    if not isinstance(data, dict):
        raise Invalid("the plan must be a mapping with conventions, sources, events and traits", field="plan")
    unknown = sorted(set(data) - set(_TOP_LEVEL))
    if unknown:
        raise Invalid(
            f"unknown section(s) {', '.join(unknown)}; a plan has {', '.join(_TOP_LEVEL)}", field=unknown[0]
        )
    conventions = Conventions(**_mapping(data.get("conventions") or {}, "conventions"))
    sources = {str(name): mode for name, mode in _mapping(data.get("sources") or {}, "sources").items()}
    for name, mode in sources.items():
        if mode not in SOURCE_MODES:
            raise Invalid(
                f"sources.{name}: {mode!r} is not one of {', '.join(SOURCE_MODES)}", field=f"sources.{name}"
            )
    events = [
        _event(item, f"events[{i}]") for i, item in enumerate(_list(data.get("events") or [], "events"))
    ]
    seen: set[str] = set()
    for i, event in enumerate(events):
        if event.name in seen:
            raise Invalid(f"events[{i}]: {event.name!r} is defined twice", field=f"events[{i}].name")
        seen.add(event.name)
    traits = [
        _trait(item, f"traits[{i}]") for i, item in enumerate(_list(data.get("traits") or [], "traits"))
    ]
    return PlanDocument(conventions, events, traits, sources)


def dump_yaml(document: PlanDocument) -> str:
    """The plan as YAML (properties shorthand where the schema allows it)."""
    data: dict[str, Any] = {
        "conventions": {"events": document.conventions.events, "properties": document.conventions.properties,
                        "traits": document.conventions.traits},
    }  # fmt: skip
    if document.sources:
        data["sources"] = dict(document.sources)
    events = []
    for event in document.events:
        if event.status != "planned":
            continue
        item: dict[str, Any] = {"name": event.name}
        if event.description:
            item["description"] = event.description
        if event.owner:
            item["owner"] = event.owner
        shorthand = _shorthand(event.schema)
        if shorthand is not None:
            item["properties"] = shorthand
        elif event.schema is not None:
            item["schema"] = event.schema
        events.append(item)
    if events:
        data["events"] = events
    if document.traits:
        data["traits"] = [
            {k: v for k, v in {"name": t.name, "type": t.type, "description": t.description, "owner": t.owner}.items()
             if v}
            for t in document.traits
        ]  # fmt: skip
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def export_csv(events: Sequence[EventDefinition], traits: Sequence[TraitDefinition]) -> str:
    """The data dictionary, one row per event, per declared property and per trait."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "name", "property", "type", "required", "description", "owner", "status"])
    for event in events:
        writer.writerow(["event", event.name, "", "", "", event.description, event.owner, event.status])
        schema = event.schema or {}
        required = set(schema.get("required") or ())
        for name, spec in (schema.get("properties") or {}).items():
            writer.writerow(["property", event.name, name, _type_text(spec), "yes" if name in required else "no",
                             spec.get("description", "") if isinstance(spec, dict) else "", "", ""])  # fmt: skip
    for trait in traits:
        writer.writerow(["trait", trait.name, "", trait.type, "", trait.description, trait.owner, ""])
    return out.getvalue()


def export_markdown(events: Sequence[EventDefinition], traits: Sequence[TraitDefinition]) -> str:
    """The data dictionary as a readable document."""
    lines = ["# Tracking plan", "", "## Events", ""]
    for event in events:
        lines += [f"### {event.name}", ""]
        if event.description:
            lines += [_cell(event.description), ""]
        lines += [f"Owner: {_cell(event.owner) or '—'} · Status: {event.status}", ""]
        schema = event.schema or {}
        properties = schema.get("properties") or {}
        if properties:
            required = set(schema.get("required") or ())
            lines += ["| Property | Type | Required | Description |", "| --- | --- | --- | --- |"]
            for name, spec in properties.items():
                description = spec.get("description", "") if isinstance(spec, dict) else ""
                lines.append(f"| {_cell(name)} | {_type_text(spec)} | {'yes' if name in required else 'no'} | "
                             f"{_cell(description)} |")  # fmt: skip
            lines.append("")
    lines += ["## Traits", "", "| Trait | Type | Description | Owner |", "| --- | --- | --- | --- |"]
    for trait in traits:
        lines.append(
            f"| {_cell(trait.name)} | {trait.type} | {_cell(trait.description)} | {_cell(trait.owner)} |"
        )
    return "\n".join(lines) + "\n"


def _event(item: Any, path: str) -> EventDefinition:
    data = _mapping(item, path)
    unknown = sorted(set(data) - set(_EVENT_KEYS))
    if unknown:
        raise Invalid(f"{path}: unknown key(s) {', '.join(unknown)}; an event has {', '.join(_EVENT_KEYS)}",
                      field=f"{path}.{unknown[0]}")  # fmt: skip
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"{path}.name: every event needs a name", field=f"{path}.name")
    if "properties" in data and "schema" in data:
        raise Invalid(f"{path}: give properties or schema, not both", field=f"{path}.schema")
    schema = None
    if "properties" in data:
        properties = _mapping(data["properties"] or {}, f"{path}.properties")
        for prop, spec in properties.items():
            spec = _mapping(spec, f"{path}.properties.{prop}")
            declared = spec.get("type")
            for kind in [declared] if isinstance(declared, str) else declared or []:
                if kind not in JSON_TYPES:
                    raise Invalid(f"{path}.properties.{prop}.type: {kind!r} is not a JSON Schema type "
                                  f"({', '.join(JSON_TYPES)})", field=f"{path}.properties.{prop}.type")  # fmt: skip
        schema = properties_schema(properties)
    elif "schema" in data:
        schema = _mapping(data["schema"], f"{path}.schema")
    definition = EventDefinition(
        name.strip(), str(data.get("description") or ""), str(data.get("owner") or ""), schema
    )
    try:
        PlanChecker(Conventions(), [definition])
    except Invalid as exc:
        raise Invalid(f"{path}: {exc.message}", field=f"{path}.schema") from None
    return definition


def _trait(item: Any, path: str) -> TraitDefinition:
    data = _mapping(item, path)
    name, kind = data.get("name"), data.get("type", "string")
    if not isinstance(name, str) or not name:
        raise Invalid(f"{path}.name: every trait needs a name", field=f"{path}.name")
    if kind not in FIELD_TYPES:
        raise Invalid(f"{path}.type: {kind!r} is not one of {', '.join(FIELD_TYPES)}", field=f"{path}.type")
    return TraitDefinition(name, kind, str(data.get("description") or ""), str(data.get("owner") or ""))


def _shorthand(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if (
        not schema
        or set(schema) - {"type", "properties", "required"}
        or schema.get("type") not in (None, "object")
    ):
        return None
    required = set(schema.get("required") or ())
    properties = schema.get("properties") or {}
    if not required <= set(properties) or not all(isinstance(spec, dict) for spec in properties.values()):
        return None
    return {
        name: {**spec, **({"required": True} if name in required else {})}
        for name, spec in properties.items()
    }


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{path}: expected a mapping, got {type(value).__name__}", field=path)
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"{path}: expected a list, got {type(value).__name__}", field=path)
    return value


def _type_text(spec: Any) -> str:
    declared = spec.get("type", "") if isinstance(spec, dict) else ""
    return " or ".join(declared) if isinstance(declared, list) else str(declared)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
