"""The tracking plan: naming conventions, checking events against it, and the plan as files."""

from __future__ import annotations

import csv
import io

import pytest

from patron.errors import Invalid
from patron.tracking.conventions import NAMING_STYLES, check_name
from patron.tracking.plan import (
    VIOLATION_KINDS,
    Conventions,
    EventDefinition,
    PlanChecker,
    TraitDefinition,
    properties_schema,
)
from patron.tracking.plan_files import PlanDocument, dump_yaml, export_csv, export_markdown, load_yaml

ORDER_COMPLETED = EventDefinition(
    "Order Completed",
    "A customer paid for an order",
    "growth",
    properties_schema(
        {
            "order_id": {"type": "string", "required": True, "description": "Our order number"},
            "revenue": {"type": "number", "required": True, "minimum": 0},
            "currency": {"type": "string", "enum": ["KRW", "USD"]},
            "quantity": {"type": "integer"},
            "coupon": {"type": ["string", "null"]},
            "is_gift": {"type": "boolean"},
            "products": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]},
            },
        }
    ),
)
SIGNED_UP = EventDefinition(
    "Signed Up", schema={"type": "object", "properties": {"plan": {"type": "string"}}}
)
GOOD_ORDER = {
    "order_id": "o-1",
    "revenue": 12000,
    "currency": "KRW",
    "quantity": 2,
    "coupon": None,
    "is_gift": False,
}

PLAN_FILE = """\
conventions: {events: object_action, properties: snake_case, traits: snake_case}
sources: {web: flag, ios: block}
events:
  - name: Order Completed
    description: A customer paid for an order
    owner: growth
    properties:
      order_id: {type: string, required: true}
      revenue: {type: number, required: true, minimum: 0}
      currency: {type: string, enum: [KRW, USD]}
  - name: Signed Up
    schema: {type: object, properties: {plan: {type: string}}}   # full JSON Schema instead of the shorthand
traits:
  - {name: plan, type: string, description: Billing plan, owner: finance}
"""


@pytest.fixture
def plan() -> PlanChecker:
    return PlanChecker(Conventions(), [ORDER_COMPLETED, SIGNED_UP])


def kinds(violations: list) -> list[tuple[str, str]]:
    return [(v.kind, v.detail) for v in violations]


def load_error(text: str) -> Invalid:
    with pytest.raises(Invalid) as caught:
        load_yaml(text)
    return caught.value


# Naming conventions


@pytest.mark.parametrize(
    ("style", "name"),
    [
        ("object_action", "Order Completed"),
        ("object_action", "Product Added To Cart"),
        ("object_action", "Signed Up"),
        ("object_action", "Step 2 Completed"),
        ("object_action", "주문 완료"),
        ("object_action", "Coupon 적용됨"),
        ("snake_case", "order_id"),
        ("snake_case", "revenue"),
        ("snake_case", "step2_done"),
        ("camel_case", "orderId"),
        ("camel_case", "revenue"),
        ("camel_case", "utm2Source"),
        ("none", "whatever You-Like"),
    ],
)
def test_names_that_follow_the_style_pass(style: str, name: str) -> None:
    assert check_name(style, name) is None


@pytest.mark.parametrize(
    ("style", "name"),
    [
        ("object_action", "order completed"),
        ("object_action", "Order completed"),
        ("object_action", "OrderCompleted"),
        ("object_action", "Signup"),
        ("object_action", "Order  Completed"),
        ("object_action", " Order Completed"),
        ("object_action", "Order Completed "),
        ("object_action", "주문완료"),
        ("snake_case", "orderId"),
        ("snake_case", "Order_id"),
        ("snake_case", "order__id"),
        ("snake_case", "order_id_"),
        ("snake_case", "_order_id"),
        ("snake_case", "2fa_enabled"),
        ("snake_case", "order-id"),
        ("snake_case", "order_id\n"),
        ("snake_case", "주문_번호"),
        ("camel_case", "order_id"),
        ("camel_case", "OrderId"),
        ("camel_case", "order id"),
        ("camel_case", "주문번호"),
    ],
)
def test_names_that_break_the_style_are_refused_with_a_reason(style: str, name: str) -> None:
    reason = check_name(style, name)
    assert reason is not None
    assert repr(name) in reason


def test_the_reason_suggests_the_name_in_the_right_style() -> None:
    assert check_name("object_action", "order completed") == (
        "'order completed' is not \"Object Action\" Title Case (e.g. 'Order Completed')"
    )
    assert "(e.g. 'Order Completed')" in check_name("object_action", "orderCompleted")
    assert "(e.g. 'order_id')" in check_name("snake_case", "orderId")
    assert "(e.g. 'http_status')" in check_name("snake_case", "HTTPStatus")
    assert "(e.g. 'orderId')" in check_name("camel_case", "order_id")


def test_a_single_word_event_gets_the_rule_instead_of_a_suggestion() -> None:
    assert "two or more capitalised words" in check_name("object_action", "Signup")


def test_an_unknown_naming_style_is_invalid() -> None:
    with pytest.raises(Invalid) as caught:
        check_name("kebab_case", "order-id")
    assert caught.value.field == "style"
    assert all(style in caught.value.message for style in NAMING_STYLES)


def test_conventions_refuse_an_unknown_style_naming_the_part() -> None:
    with pytest.raises(Invalid) as caught:
        Conventions(properties="kebab_case")
    assert caught.value.field == "conventions.properties"


# Checking events


def test_an_event_that_follows_the_plan_has_no_violations(plan: PlanChecker) -> None:
    assert plan.check_track("Order Completed", GOOD_ORDER) == []
    assert plan.check_track("Signed Up", {"plan": "pro"}) == []


def test_a_missing_required_property_is_reported_by_name(plan: PlanChecker) -> None:
    violations = plan.check_track("Order Completed", {"order_id": "o-1"})
    assert kinds(violations) == [("missing_property", "revenue")]
    assert violations[0].subject == "Order Completed"
    assert violations[0].message == "Order Completed: property 'revenue' is required but missing"


def test_a_property_of_the_wrong_type_is_reported(plan: PlanChecker) -> None:
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "revenue": "12000"})
    assert kinds(violations) == [("wrong_type", "revenue")]
    assert (
        violations[0].message == "Order Completed: property 'revenue' is a string but the plan says a number"
    )


def test_a_boolean_is_not_a_number_nor_an_integer(plan: PlanChecker) -> None:
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "revenue": True, "quantity": False})
    assert kinds(violations) == [("wrong_type", "revenue"), ("wrong_type", "quantity")]


def test_an_integer_is_a_number_and_a_whole_float_is_an_integer(plan: PlanChecker) -> None:
    assert plan.check_track("Order Completed", {**GOOD_ORDER, "revenue": 5, "quantity": 2.0}) == []
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "quantity": 2.5})
    assert kinds(violations) == [("wrong_type", "quantity")]
    assert "a number with a fraction but the plan says an integer" in violations[0].message


def test_a_list_of_types_allows_any_of_them(plan: PlanChecker) -> None:
    assert plan.check_track("Order Completed", {**GOOD_ORDER, "coupon": "WELCOME"}) == []
    assert plan.check_track("Order Completed", {**GOOD_ORDER, "coupon": None}) == []
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "coupon": 10})
    assert kinds(violations) == [("wrong_type", "coupon")]
    assert "the plan says a string or null" in violations[0].message


def test_a_constraint_beyond_the_type_is_an_invalid_property(plan: PlanChecker) -> None:
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "revenue": -1, "currency": "EUR"})
    assert kinds(violations) == [("invalid_property", "revenue"), ("invalid_property", "currency")]
    assert violations[0].message == "Order Completed: property 'revenue' must be at least 0"
    assert violations[1].message == "Order Completed: property 'currency' must be one of ['KRW', 'USD']"


def test_nested_constraints_are_reported_under_their_top_level_property(plan: PlanChecker) -> None:
    products = [{"sku": 7}, {"name": "no sku"}]
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "products": products})
    assert kinds(violations) == [("invalid_property", "products"), ("invalid_property", "products")]
    assert violations[0].message == "Order Completed: property 'products[0].sku' must be a string"
    assert violations[1].message == "Order Completed: property 'products[1]' is missing required 'sku'"


def test_a_mistyped_property_is_not_also_reported_as_invalid(plan: PlanChecker) -> None:
    violations = plan.check_track("Order Completed", {**GOOD_ORDER, "currency": 5})
    assert kinds(violations) == [("wrong_type", "currency")]


def test_properties_a_closed_schema_does_not_list_are_invalid_one_by_one() -> None:
    schema = {"type": "object", "properties": {"plan": {"type": "string"}}, "additionalProperties": False}
    plan = PlanChecker(Conventions(), [EventDefinition("Signed Up", schema=schema)])
    violations = plan.check_track("Signed Up", {"plan": "pro", "referrer": "x", "campaign": "y"})
    assert kinds(violations) == [("invalid_property", "referrer"), ("invalid_property", "campaign")]


def test_defaults_in_the_schema_do_not_change_the_message() -> None:
    schema = {
        "type": "object",
        "properties": {"plan": {"type": "string", "default": "free", "maxLength": 10}},
    }
    plan = PlanChecker(Conventions(), [EventDefinition("Signed Up", schema=schema)])
    properties: dict = {}
    assert plan.check_track("Signed Up", properties) == []
    assert properties == {}


def test_an_event_off_the_plan_is_unplanned(plan: PlanChecker) -> None:
    violations = plan.check_track("Cart Viewed", {"cart_id": "c-1"})
    assert kinds(violations) == [("unplanned_event", "")]
    assert "is not in the tracking plan" in violations[0].message
    assert not plan.is_planned("Cart Viewed")
    assert plan.is_planned("Order Completed")


def test_an_event_only_discovered_in_data_is_still_unplanned() -> None:
    discovered = EventDefinition("Cart Viewed", status="unplanned")
    plan = PlanChecker(Conventions(), [discovered])
    assert kinds(plan.check_track("Cart Viewed", {})) == [("unplanned_event", "")]
    assert not plan.is_planned("Cart Viewed")


def test_an_event_planned_without_a_schema_accepts_any_properties() -> None:
    plan = PlanChecker(Conventions(), [EventDefinition("App Opened")])
    assert plan.check_track("App Opened", {"anything": [1, {"x": None}]}) == []


def test_badly_named_events_and_properties_are_reported(plan: PlanChecker) -> None:
    violations = plan.check_track("order completed", {"orderId": "o-1"})
    assert kinds(violations) == [
        ("event_naming", ""),
        ("property_naming", "orderId"),
        ("unplanned_event", ""),
    ]
    assert violations[0].message.startswith("event name 'order completed' is not")
    assert violations[1].message == "order completed: property 'orderId' is not snake_case (e.g. 'order_id')"


def test_page_properties_and_traits_are_checked_for_naming_only(plan: PlanChecker) -> None:
    assert kinds(plan.check_properties("page", {"pageTitle": 5, "path": "/"})) == [
        ("property_naming", "pageTitle")
    ]
    traits = plan.check_traits("identify", {"firstName": "Kim", "plan": "pro"})
    assert [(v.kind, v.subject, v.detail) for v in traits] == [("trait_naming", "identify", "firstName")]
    assert traits[0].message == "identify: trait 'firstName' is not snake_case (e.g. 'first_name')"


def test_the_naming_style_none_checks_nothing() -> None:
    plan = PlanChecker(Conventions("none", "none", "none"), [ORDER_COMPLETED])
    assert plan.check_track("Order Completed", {**GOOD_ORDER, "Weird Key": 1}) == []
    assert plan.check_traits("identify", {"First Name": "Kim"}) == []


def test_other_conventions_are_applied() -> None:
    plan = PlanChecker(Conventions(events="snake_case", properties="camel_case", traits="camel_case"), [])
    assert kinds(plan.check_track("order_completed", {"orderId": 1})) == [("unplanned_event", "")]
    assert kinds(plan.check_traits("identify", {"first_name": "Kim"})) == [("trait_naming", "first_name")]


def test_every_violation_kind_is_one_the_plan_knows() -> None:
    plan = PlanChecker(Conventions(), [ORDER_COMPLETED])
    found = plan.check_track("Order Completed", {"revenue": "x", "currency": "EUR", "orderId": 1})
    found += plan.check_track("bad name", {})
    found += plan.check_traits("identify", {"firstName": "Kim"})
    assert {v.kind for v in found} == set(VIOLATION_KINDS)


def test_a_broken_schema_is_refused_when_the_checker_is_built() -> None:
    broken = EventDefinition("Order Completed", schema=properties_schema({"revenue": {"type": "money"}}))
    with pytest.raises(Invalid) as caught:
        PlanChecker(Conventions(), [broken])
    assert "'money' is not a JSON Schema type" in caught.value.message
    assert caught.value.field == "schema.properties.revenue.type"


def test_an_event_defined_twice_is_refused_by_the_checker() -> None:
    with pytest.raises(Invalid, match="defined twice"):
        PlanChecker(Conventions(), [SIGNED_UP, EventDefinition("Signed Up", status="unplanned")])


def test_the_shorthand_becomes_a_json_schema() -> None:
    schema = properties_schema(
        {"b": {"type": "string", "required": True}, "a": {"type": "number", "required": True}}
    )
    assert schema == {
        "type": "object",
        "properties": {"b": {"type": "string"}, "a": {"type": "number"}},
        "required": ["a", "b"],
    }


def test_definitions_refuse_unknown_statuses_and_trait_types() -> None:
    with pytest.raises(Invalid):
        EventDefinition("Signed Up", status="draft")
    with pytest.raises(Invalid):
        TraitDefinition("plan", "money")


# Plan files


def test_a_plan_file_loads_with_shorthand_and_full_schemas() -> None:
    document = load_yaml(PLAN_FILE)
    assert document.conventions == Conventions()
    assert document.sources == {"web": "flag", "ios": "block"}
    order, signed_up = document.events
    assert (order.name, order.description, order.owner, order.status) == (
        "Order Completed",
        "A customer paid for an order",
        "growth",
        "planned",
    )
    assert order.schema == {
        "type": "object",
        "properties": {
            "order_id": {"type": "string"},
            "revenue": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["KRW", "USD"]},
        },
        "required": ["order_id", "revenue"],
    }
    assert signed_up.schema == {"type": "object", "properties": {"plan": {"type": "string"}}}
    assert document.traits == [TraitDefinition("plan", "string", "Billing plan", "finance")]


def test_every_section_of_a_plan_file_is_optional() -> None:
    assert load_yaml("") == PlanDocument()
    assert load_yaml("events:\n  - name: App Opened\n").events == [EventDefinition("App Opened")]


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [
        (
            "events:\n  - name: A B\n    properties:\n      revenue: {type: money}\n",
            "events[0].properties.revenue.type",
            "events[0].properties.revenue.type: 'money' is not a JSON Schema type (string, number, integer,",
        ),
        ("colour: red\n", "colour", "unknown section 'colour'"),
        ("events:\n  - {name: A B, colour: red}\n", "events[0].colour", "events[0]: unknown key 'colour'"),
        ("events:\n  - {description: no name}\n", "events[0].name", "every event needs a name"),
        ("events:\n  - {name: A B, owner: 42}\n", "events[0].owner", "events[0].owner: expected text"),
        ("events:\n  - {name: A B, status: draft}\n", "events[0].status", "'draft' is not a status"),
        ("events: {name: A B}\n", "events", "events: expected a list"),
        (
            "events:\n  - {name: A B, properties: {x: {required: maybe}}}\n",
            "events[0].properties.x.required",
            "not true",
        ),
        ("events:\n  - {name: A B, properties: {}, schema: {}}\n", "events[0].schema", "not both"),
        ("events:\n  - {name: A B, schema: {type: array}}\n", "events[0].schema.type", "must be 'object'"),
        (
            "events:\n  - {name: A B, schema: {properties: {x: {minimum: abc}}}}\n",
            "events[0].schema",
            "minimum",
        ),
        (
            "events:\n  - {name: A B, schema: {properties: {x: {pattern: '('}}}}\n",
            "events[0].schema",
            "pattern",
        ),
        ("events:\n  - {name: A B, schema: {$ref: 'http://x.test/s.json'}}\n", "events[0].schema", "outside"),
        (
            "events:\n  - {name: A B, properties: {day: {enum: [2024-01-01]}}}\n",
            "events[0].properties.day.enum[0]",
            "date",
        ),
        ("events:\n  - {name: A B, properties: {on: {type: string}}}\n", "events[0].properties", "quotes"),
        ("sources: {web: warn}\n", "sources.web", "sources.web: 'warn' is not a mode (allow, flag, block)"),
        ("conventions: {events: kebab}\n", "conventions.events", "'kebab' is not a naming style"),
        ("conventions: {colour: red}\n", "conventions.colour", "unknown key 'colour'"),
        ("traits:\n  - {name: plan, type: money}\n", "traits[0].type", "'money' is not a field type"),
        ("traits:\n  - {name: plan}\n", "traits[0].type", "every trait needs a type"),
        ("- just a list\n", "plan", "must be a mapping of sections"),
    ],
)
def test_plan_file_errors_name_the_place(text: str, field: str, says: str) -> None:
    error = load_error(text)
    assert error.field == field
    assert says in error.message


def test_yaml_syntax_errors_name_the_line() -> None:
    error = load_error("events:\n  - name: Order Completed\n    properties: {order_id: [\n")
    assert "line 4" in error.message
    assert error.message.startswith("the plan is not valid YAML")


def test_a_key_given_twice_in_a_mapping_is_an_error_with_its_line() -> None:
    text = "events:\n  - name: A B\n    properties:\n      x: {type: string}\n      x: {type: number}\n"
    assert "line 5" in load_error(text).message and "'x' is given twice" in load_error(text).message


def test_an_event_name_given_twice_is_an_error() -> None:
    error = load_error("events:\n  - name: Signed Up\n  - name: Order Completed\n  - name: Signed Up\n")
    assert error.field == "events[2].name"
    assert "'Signed Up' is already defined at events[0]" in error.message


def test_a_trait_name_given_twice_is_an_error() -> None:
    error = load_error("traits:\n  - {name: plan, type: string}\n  - {name: plan, type: number}\n")
    assert error.field == "traits[1].name"


def test_dumping_and_loading_a_plan_gives_it_back() -> None:
    document = load_yaml(PLAN_FILE)
    text = dump_yaml(document)
    assert "order_id: {type: string, required: true}" in text
    assert "schema:" in text
    assert load_yaml(text) == document


def test_awkward_plans_survive_the_round_trip() -> None:
    nested = {
        "type": "object",
        "properties": {"address": {"type": "object", "required": ["city"]}, "tags": {"type": "array"}},
        "required": ["address"],
    }
    document = PlanDocument(
        Conventions("snake_case", "camel_case", "none"),
        [
            ORDER_COMPLETED,
            SIGNED_UP,
            EventDefinition("Profile Updated", schema=nested),
            EventDefinition(
                "주문 완료", "한국어 설명", "성장팀", properties_schema({"금액": {"type": "integer"}})
            ),
            EventDefinition("Cart Viewed", status="unplanned"),
            EventDefinition("yes", description="123", owner="2024-01-01"),
            EventDefinition("No Properties", schema=properties_schema({})),
        ],
        [
            TraitDefinition("plan", "string"),
            TraitDefinition("signed_up_at", "datetime", "When | how", "growth"),
        ],
        {"web": "allow", "on": "block"},
    )
    assert load_yaml(dump_yaml(document)) == document


def test_the_csv_data_dictionary_has_a_row_per_event_property_and_trait() -> None:
    document = load_yaml(PLAN_FILE)
    rows = list(csv.DictReader(io.StringIO(export_csv(document.events, document.traits))))
    assert list(rows[0]) == ["kind", "name", "property", "type", "required", "description", "owner", "status"]
    assert [(r["kind"], r["name"], r["property"]) for r in rows] == [
        ("event", "Order Completed", ""),
        ("property", "Order Completed", "order_id"),
        ("property", "Order Completed", "revenue"),
        ("property", "Order Completed", "currency"),
        ("event", "Signed Up", ""),
        ("property", "Signed Up", "plan"),
        ("trait", "plan", ""),
    ]
    assert rows[0]["description"] == "A customer paid for an order"
    assert (rows[0]["owner"], rows[0]["status"]) == ("growth", "planned")
    assert (rows[2]["type"], rows[2]["required"], rows[3]["required"]) == ("number", "yes", "no")
    assert (rows[6]["type"], rows[6]["description"], rows[6]["owner"]) == (
        "string",
        "Billing plan",
        "finance",
    )


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_defused() -> None:
    text = export_csv([EventDefinition('=HYPERLINK("http://x.test")', status="unplanned")], [])
    assert list(csv.reader(io.StringIO(text)))[1][1] == '\'=HYPERLINK("http://x.test")'


def test_the_markdown_data_dictionary_reads_as_a_document() -> None:
    document = load_yaml(PLAN_FILE)
    traits = [*document.traits, TraitDefinition("segment", "string", "A | B test group")]
    text = export_markdown(document.events, traits)
    assert text.startswith("# Tracking plan\n")
    assert "## Events" in text and "## Traits" in text
    assert "### Order Completed\n\nA customer paid for an order\n" in text
    assert "- Owner: growth" in text and "- Status: planned" in text
    assert "| Property | Type | Required | Description |" in text
    assert "| revenue | number | yes |  |" in text
    assert "| currency | string | no |  |" in text
    assert "### Signed Up" in text
    assert "| plan | string | Billing plan | finance |" in text
    assert "| segment | string | A \\| B test group |  |" in text
    assert text.index("## Events") < text.index("### Signed Up") < text.index("## Traits")
