"""The tracking plan as files: YAML kept in Git, and the data dictionary as CSV or Markdown."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from patron.errors import Invalid
from patron.fields.types import FIELD_TYPES
from patron.tracking.plan import (
    EVENT_STATUSES,
    JSON_TYPES,
    Conventions,
    EventDefinition,
    TraitDefinition,
    compile_schema,
    properties_schema,
)

SOURCE_MODES = ("allow", "flag", "block")
CSV_COLUMNS = ("kind", "name", "property", "type", "required", "description", "owner", "status")
_SECTIONS = ("conventions", "sources", "events", "traits")
_CONVENTION_KEYS = ("events", "properties", "traits")
_EVENT_KEYS = ("name", "description", "owner", "status", "properties", "schema")
_TRAIT_KEYS = ("name", "type", "description", "owner")
# A spreadsheet runs a cell starting with these as a formula; event names come from any SDK.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """Everything a plan file says: conventions, events, traits and how each source treats events off it."""

    conventions: Conventions = field(default_factory=Conventions)
    events: list[EventDefinition] = field(default_factory=list)
    traits: list[TraitDefinition] = field(default_factory=list)
    # Source (write key) name -> "allow", "flag" or "block".
    sources: dict[str, str] = field(default_factory=dict)


def load_yaml(text: str) -> PlanDocument:
    """Read a plan file; Invalid names the place, e.g. events[1].properties.revenue.type, or the YAML line."""
    try:
        data = yaml.load(text, Loader=_PlanLoader)  # a SafeLoader: builds no Python objects
    except yaml.YAMLError as exc:
        raise Invalid(f"the plan is not valid YAML: {_yaml_problem(exc)}", field="plan") from None
    if data is None:
        return PlanDocument()
    if not isinstance(data, dict):
        raise Invalid(
            f"the plan must be a mapping of sections ({', '.join(_SECTIONS)}), not {_kind(data)}",
            field="plan",
        )
    _check_json(data, "")
    unknown = [key for key in data if key not in _SECTIONS]
    if unknown:
        raise Invalid(
            f"unknown section {', '.join(repr(key) for key in unknown)}: a plan has {', '.join(_SECTIONS)}",
            field=unknown[0],
        )
    conventions = _mapping(data.get("conventions"), "conventions", _CONVENTION_KEYS)
    sources = _mapping(data.get("sources"), "sources")
    for name, mode in sources.items():
        if mode not in SOURCE_MODES:
            raise Invalid(
                f"sources.{name}: {mode!r} is not a mode ({', '.join(SOURCE_MODES)})", field=f"sources.{name}"
            )
    events = [_event(item, f"events[{i}]") for i, item in enumerate(_sequence(data.get("events"), "events"))]
    traits = [_trait(item, f"traits[{i}]") for i, item in enumerate(_sequence(data.get("traits"), "traits"))]
    _refuse_duplicates([event.name for event in events], "events", "event")
    _refuse_duplicates([trait.name for trait in traits], "traits", "trait")
    return PlanDocument(Conventions(**conventions), events, traits, dict(sources))


def dump_yaml(document: PlanDocument) -> str:
    """The plan file for `document` (properties shorthand wherever the schema allows it)."""
    conventions = document.conventions
    data: dict[str, Any] = {
        "conventions": _Flow(
            events=conventions.events, properties=conventions.properties, traits=conventions.traits
        )
    }
    if document.sources:
        data["sources"] = dict(document.sources)
    if document.events:
        data["events"] = [_event_item(event) for event in document.events]
    if document.traits:
        data["traits"] = [_trait_item(trait) for trait in document.traits]
    return yaml.dump(data, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=110)


def export_csv(events: Sequence[EventDefinition], traits: Sequence[TraitDefinition]) -> str:
    """The data dictionary as CSV: one row per event, per declared property and per trait."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in events:
        writer.writerow(
            _safe_cells(["event", event.name, "", "", "", event.description, event.owner, event.status])
        )
        for name, spec, is_required in _declared_properties(event):
            row = ["property", event.name, name, _type_text(spec), "yes" if is_required else "no",
                   _description(spec), "", ""]  # fmt: skip
            writer.writerow(_safe_cells(row))
    for trait in traits:
        writer.writerow(
            _safe_cells(["trait", trait.name, "", trait.type, "", trait.description, trait.owner, ""])
        )
    return out.getvalue()


def export_markdown(events: Sequence[EventDefinition], traits: Sequence[TraitDefinition]) -> str:
    """The data dictionary as a Markdown document: events with their properties, then traits."""
    lines = ["# Tracking plan", "", "## Events", ""]
    if not events:
        lines += ["No events in the plan yet.", ""]
    for event in events:
        lines += [f"### {_line(event.name)}", ""]
        if event.description:
            lines += [_line(event.description), ""]
        lines += [f"- Owner: {_line(event.owner) or '(none)'}", f"- Status: {event.status}", ""]
        declared = _declared_properties(event)
        if not declared:
            lines += ["No properties declared.", ""]
            continue
        lines += ["| Property | Type | Required | Description |", "| --- | --- | --- | --- |"]
        for name, spec, is_required in declared:
            cells = [name, _type_text(spec), "yes" if is_required else "no", _description(spec)]
            lines.append(_table_row(cells))
        lines.append("")
    lines += ["## Traits", ""]
    if traits:
        lines += ["| Trait | Type | Description | Owner |", "| --- | --- | --- | --- |"]
        lines += [_table_row([t.name, t.type, t.description, t.owner]) for t in traits]
    else:
        lines.append("No traits in the plan yet.")
    return "\n".join(lines) + "\n"


class _PlanLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The mapping, after checking its own keys (not those merged in with <<) are distinct."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice in the same mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Flow(dict):
    """A mapping written on one line ({type: string, required: true}), as people write short ones."""


class _PlanDumper(yaml.SafeDumper):
    """SafeDumper that writes _Flow mappings in flow style."""


_PlanDumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"


def _check_json(value: Any, path: str) -> None:
    """Refuse what YAML reads but JSON cannot hold: dates, non-text keys, binary, sets."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                where = path or "the plan"
                raise Invalid(
                    f"{where}: key {key!r} is not text; put it in quotes (YAML reads on/off/yes/no as "
                    "booleans and digits as numbers)",
                    field=where,
                )
            _check_json(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
    elif isinstance(value, date):
        raise Invalid(f"{path}: {value.isoformat()} is read as a date by YAML; put it in quotes", field=path)
    elif not isinstance(value, str | int | float | bool) and value is not None:
        raise Invalid(f"{path}: {_kind(value)} is not a JSON value", field=path)


def _event(item: Any, path: str) -> EventDefinition:
    data = _mapping(item, path, _EVENT_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"{path}.name: every event needs a name, e.g. 'Order Completed'", field=f"{path}.name")
    status = data.get("status", "planned")
    if status not in EVENT_STATUSES:
        raise Invalid(
            f"{path}.status: {status!r} is not a status ({', '.join(EVENT_STATUSES)})", field=f"{path}.status"
        )
    if "properties" in data and "schema" in data:
        raise Invalid(
            f"{path}: give either properties (the shorthand) or schema (full JSON Schema), not both",
            field=f"{path}.schema",
        )
    schema = None
    if "properties" in data:
        where = f"{path}.properties"
        shorthand = {
            prop: _property(spec, f"{where}.{prop}")
            for prop, spec in _mapping(data["properties"], where).items()
        }
        schema = properties_schema(shorthand)
        compile_schema(schema, path=where)
    elif "schema" in data:
        where = f"{path}.schema"
        schema = data["schema"]
        if not isinstance(schema, dict):
            raise Invalid(f"{where}: expected a JSON Schema mapping, not {_kind(schema)}", field=where)
        compile_schema(schema, path=where)
    return EventDefinition(name, _text(data, "description", path), _text(data, "owner", path), schema, status)


def _property(spec: Any, path: str) -> dict[str, Any]:
    spec = _mapping(spec, path)
    if not isinstance(spec.get("required", False), bool):
        raise Invalid(f"{path}.required: {spec['required']!r} is not true or false", field=f"{path}.required")
    if "type" in spec:
        declared = spec["type"]
        for name in declared if isinstance(declared, list) and declared else [declared]:
            if name not in JSON_TYPES:
                raise Invalid(
                    f"{path}.type: {name!r} is not a JSON Schema type ({', '.join(JSON_TYPES)})",
                    field=f"{path}.type",
                )
    return spec


def _trait(item: Any, path: str) -> TraitDefinition:
    data = _mapping(item, path, _TRAIT_KEYS)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid(f"{path}.name: every trait needs a name, e.g. 'plan'", field=f"{path}.name")
    kind = data.get("type")
    if kind not in FIELD_TYPES:
        said = "every trait needs a type" if kind is None else f"{kind!r} is not a field type"
        raise Invalid(f"{path}.type: {said} ({', '.join(FIELD_TYPES)})", field=f"{path}.type")
    return TraitDefinition(name, kind, _text(data, "description", path), _text(data, "owner", path))


def _mapping(value: Any, path: str, keys: Sequence[str] | None = None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{path}: expected a mapping (key: value), not {_kind(value)}", field=path)
    unknown = [key for key in value if keys is not None and key not in keys]
    if unknown:
        named = ", ".join(repr(key) for key in unknown)
        raise Invalid(
            f"{path}: unknown key {named} (allowed: {', '.join(keys or ())})",
            field=f"{path}.{unknown[0]}",
        )
    return value


def _sequence(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"{path}: expected a list (lines starting with '- '), not {_kind(value)}", field=path)
    return value


def _text(data: Mapping[str, Any], key: str, path: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(
            f"{path}.{key}: expected text, not {_kind(value)}; put it in quotes", field=f"{path}.{key}"
        )
    return value


def _refuse_duplicates(names: list[str], section: str, noun: str) -> None:
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in first:
            raise Invalid(
                f"{section}[{index}].name: {noun} {name!r} is already defined at {section}[{first[name]}]; "
                "keep one definition",
                field=f"{section}[{index}].name",
            )
        first[name] = index


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def _event_item(event: EventDefinition) -> dict[str, Any]:
    item = _without_blanks({"name": event.name, "description": event.description, "owner": event.owner})
    if event.status != "planned":
        item["status"] = event.status
    shorthand = _shorthand(event.schema)
    if shorthand is not None:
        item["properties"] = shorthand
    elif event.schema is not None:
        item["schema"] = event.schema
    return item


def _trait_item(trait: TraitDefinition) -> dict[str, Any]:
    fields = {"name": trait.name, "type": trait.type, "description": trait.description, "owner": trait.owner}
    return _Flow(_without_blanks(fields))


def _shorthand(schema: dict | None) -> dict[str, Any] | None:
    """The shorthand that loads back as exactly `schema`, or None when the shorthand cannot say it."""
    if not isinstance(schema, dict) or set(schema) != {"type", "properties", "required"}:
        return None
    properties, required = schema["properties"], schema["required"]
    if not isinstance(properties, dict) or not isinstance(required, list):
        return None
    if not all(isinstance(spec, dict) and "required" not in spec for spec in properties.values()):
        return None
    shorthand = {}
    for name, spec in properties.items():
        flag = {"required": True} if name in required else {}
        typed = {"type": spec["type"]} if "type" in spec else {}
        shorthand[name] = _Flow({**typed, **flag, **spec})
    return shorthand if properties_schema(shorthand) == schema else None


def _without_blanks(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if value != ""}


def _declared_properties(event: EventDefinition) -> list[tuple[str, Any, bool]]:
    schema = event.schema if isinstance(event.schema, dict) else {}
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict):
        return []
    required_names = set(required) if isinstance(required, list) else set()
    return [(name, spec, name in required_names) for name, spec in properties.items()]


def _type_text(spec: Any) -> str:
    declared = spec.get("type") if isinstance(spec, dict) else None
    if declared is None:
        return "any"
    return " or ".join(declared) if isinstance(declared, list) else str(declared)


def _description(spec: Any) -> str:
    description = spec.get("description", "") if isinstance(spec, dict) else ""
    return description if isinstance(description, str) else str(description)


def _safe_cells(row: list[str]) -> list[str]:
    return ["'" + cell if cell.startswith(_FORMULA_STARTS) else cell for cell in row]


def _line(text: str) -> str:
    return " ".join(text.split())


def _table_row(cells: list[str]) -> str:
    return "| " + " | ".join(_line(cell).replace("|", "\\|") for cell in cells) + " |"
