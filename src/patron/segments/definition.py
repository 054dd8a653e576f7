"""Segment definitions: a JSON tree and a readable text form that round-trip.

    country = "US" and created_at > now - 6 months
      and count(event "Order Completed" in last 30 days) >= 2
      and subscribed(email, "newsletter") and not in segment "Customers"

Text -> tree with `parse` (Invalid names the position and what was expected), tree -> text with
`to_text`, tree checked with `check_tree`. Nodes:
  {"and": [NODE, ...]}, {"or": [NODE, ...]}, {"not": NODE}
  {"trait": NAME, "op": OP, "value": VALUE}           OP: = != > >= < <= contains
  {"trait": NAME, "op": "in", "value": [VALUE, ...]}  {"trait": NAME, "op": "set" | "not_set"}
  {"event": NAME, "agg": "count"|"first"|"last"|"sum", "property": NAME (sum),
   "where": [{"property", "op", "value"}], "within": {"last": N, "unit": UNIT}, "op": OP, "value": VALUE}
  {"identity": KIND}                                  has email | has phone | has ext:shop
  {"subscribed": {"channel": CHANNEL, "topic": KEY}}  topic "" for the channel as a whole
  {"segment": NAME}                                   in segment "Customers"
VALUE: a string, a number, true/false, or {"now": {"minus"|"plus": N, "unit": UNIT}} for a moment
relative to now. UNIT: minutes, hours, days, weeks, months, years.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from patron.errors import Invalid

COMPARISONS = ("=", "!=", ">=", "<=", ">", "<")
TRAIT_OPS = (*COMPARISONS, "contains", "in", "set", "not_set")
AGGREGATES = ("count", "sum", "first", "last")
UNITS = ("minutes", "hours", "days", "weeks", "months", "years")
_SINGULAR = {unit[:-1]: unit for unit in UNITS}
KEYWORDS = {"and", "or", "not", "in", "is", "set", "now", "event", "where", "last", "has", "segment",
            "subscribed", "true", "false", "contains", "of"}  # fmt: skip
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<op>>=|<=|!=|=|>|<|\(|\)|\[|\]|,|-|\+)
      | (?P<word>[^\W\d][\w.:]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token and where it starts (0-based character offset)."""

    kind: str  # string | number | op | word | end
    text: str
    at: int

    @property
    def value(self) -> Any:
        """The token's Python value (strings unquoted, numbers as int or float)."""
        if self.kind == "string":
            return json.loads(self.text)
        if self.kind == "number":
            return float(self.text) if any(c in self.text for c in ".eE") else int(self.text)
        return self.text


def tokenize(text: str) -> list[Token]:
    """Tokens of a definition; Invalid at the first character that starts none."""
    tokens: list[Token] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            tokens.append(Token("end", "", at))
            return tokens
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise _error(text, at, "a condition, a value or an operator", repr(text[at]))
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        at = match.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.token.kind == "word" and self.token.text.lower() in words

    def is_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            self.fail(f"'{word}'")
        return self.next()

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            self.fail(f"'{op}'")
        return self.next()

    def expect(self, kind: str, what: str) -> Token:
        if self.token.kind != kind:
            self.fail(what)
        return self.next()

    def fail(self, expected: str) -> None:
        found = "the end" if self.token.kind == "end" else repr(self.token.text)
        raise _error(self.text, self.token.at, expected, found)

    # expr := and_expr ("or" and_expr)*
    def expression(self) -> dict[str, Any]:
        parts = [self.conjunction()]
        while self.is_word("or"):
            self.next()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else {"or": parts}

    def conjunction(self) -> dict[str, Any]:
        parts = [self.negation()]
        while self.is_word("and"):
            self.next()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else {"and": parts}

    def negation(self) -> dict[str, Any]:
        if self.is_word("not"):
            self.next()
            return {"not": self.negation()}
        return self.primary()

    def primary(self) -> dict[str, Any]:
        if self.is_op("("):
            self.next()
            inner = self.expression()
            self.expect_op(")")
            return inner
        if self.is_word("in"):
            self.next()
            self.expect_word("segment")
            return {"segment": self.expect("string", 'a segment name in quotes, like "Customers"').value}
        if self.is_word("has"):
            self.next()
            kind = self.expect("word", "an identity kind (email, phone, user_id, anonymous_id, ext:SOURCE)")
            return {"identity": kind.text}
        if self.is_word("subscribed"):
            return self.subscribed()
        if self.is_word(*AGGREGATES) and self.tokens[self.index + 1].text == "(":
            return self.event()
        return self.trait()

    def subscribed(self) -> dict[str, Any]:
        self.next()
        self.expect_op("(")
        channel = self.expect("word", "a channel (email, sms, push, webhook)").text
        topic = ""
        if self.is_op(","):
            self.next()
            topic = self.expect("string", 'a topic key in quotes, like "newsletter"').value
        self.expect_op(")")
        return {"subscribed": {"channel": channel, "topic": topic}}

    def event(self) -> dict[str, Any]:
        agg = self.next().text.lower()
        self.expect_op("(")
        node: dict[str, Any] = {"event": None, "agg": agg}
        if agg == "sum":
            node["property"] = self.expect("word", "the property to add up, like revenue").text
            self.expect_word("of")
        self.expect_word("event")
        node["event"] = self.expect("string", 'an event name in quotes, like "Order Completed"').value
        if self.is_word("where"):
            self.next()
            node["where"] = [self.property_filter()]
            while self.is_word("and"):
                self.next()
                node["where"].append(self.property_filter())
        if self.is_word("in"):
            self.next()
            self.expect_word("last")
            amount = self.expect("number", "how many, like 30").value
            node["within"] = {"last": amount, "unit": self.unit()}
        self.expect_op(")")
        node["op"] = self.comparison()
        node["value"] = self.value()
        return node

    def property_filter(self) -> dict[str, Any]:
        name = self.expect("word", "a property name").text
        op = self.comparison(allow=(*COMPARISONS, "contains"))
        return {"property": name, "op": op, "value": self.value()}

    def trait(self) -> dict[str, Any]:
        name_token = self.expect(
            "word", "a condition (a trait name, count(...), subscribed(...), in segment, has)"
        )
        if name_token.text.lower() in KEYWORDS:
            raise _error(self.text, name_token.at, "a trait name", repr(name_token.text))
        name = name_token.text
        if self.is_word("is"):
            self.next()
            negated = self.is_word("not")
            if negated:
                self.next()
            self.expect_word("set")
            return {"trait": name, "op": "not_set" if negated else "set"}
        if self.is_word("in"):
            self.next()
            self.expect_op("[")
            values = [self.value()]
            while self.is_op(","):
                self.next()
                values.append(self.value())
            self.expect_op("]")
            return {"trait": name, "op": "in", "value": values}
        op = self.comparison(allow=(*COMPARISONS, "contains"))
        return {"trait": name, "op": op, "value": self.value()}

    def comparison(self, allow: tuple[str, ...] = COMPARISONS) -> str:
        if self.token.kind == "op" and self.token.text in allow:
            return self.next().text
        if self.is_word(*allow):
            return self.next().text.lower()
        self.fail("a comparison (" + " ".join(allow) + ")")
        raise AssertionError  # fail() raised

    def value(self) -> Any:
        if self.token.kind in ("string", "number"):
            return self.next().value
        if self.is_word("true", "false"):
            return self.next().text.lower() == "true"
        if self.is_word("now"):
            self.next()
            if self.is_op("-", "+"):
                sign = "minus" if self.next().text == "-" else "plus"
                amount = self.expect("number", "how many, like 6").value
                return {"now": {sign: amount, "unit": self.unit()}}
            return {"now": {}}
        self.fail('a value ("text", a number, true, false, or now - 6 months)')
        raise AssertionError

    def unit(self) -> str:
        word = self.expect("word", "a unit (" + ", ".join(UNITS) + ")")
        unit = word.text.lower()
        unit = _SINGULAR.get(unit, unit)
        if unit not in UNITS:
            raise _error(self.text, word.at, "a unit (" + ", ".join(UNITS) + ")", repr(word.text))
        return unit


def parse(text: str) -> dict[str, Any]:
    """The tree of a definition's text form; Invalid says where and what was expected."""
    if not text or not text.strip():
        raise Invalid('the definition is empty: write a condition, like country = "US"', field="definition")
    parser = _Parser(text)
    tree = parser.expression()
    if parser.token.kind != "end":
        parser.fail("'and', 'or' or the end")
    check_tree(tree)
    return tree


def _error(text: str, at: int, expected: str, found: str) -> Invalid:
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    return Invalid(
        f"line {line}, column {column}: expected {expected}, found {found}",
        field="definition",
        details={"position": at, "line": line, "column": column, "expected": expected},
    )


def to_text(tree: dict[str, Any]) -> str:
    """The readable form of a tree; parse(to_text(tree)) == tree."""
    return _text(tree, parent=None)


def _text(node: dict[str, Any], *, parent: str | None) -> str:
    for joiner in ("or", "and"):
        if joiner in node:
            inner = f" {joiner} ".join(_text(part, parent=joiner) for part in node[joiner])
            # "and" binds tighter than "or"; a group inside the same joiner keeps its brackets so
            # the tree comes back as it was, not flattened.
            grouped = parent == "not" or parent == joiner or (joiner == "or" and parent == "and")
            return f"({inner})" if grouped else inner
    if "not" in node:
        return "not " + _text(node["not"], parent="not")
    if "segment" in node:
        return f"in segment {_quote(node['segment'])}"
    if "identity" in node:
        return f"has {node['identity']}"
    if "subscribed" in node:
        wanted = node["subscribed"]
        topic = f", {_quote(wanted['topic'])}" if wanted.get("topic") else ""
        return f"subscribed({wanted['channel']}{topic})"
    if "event" in node:
        head = f"sum({node['property']} of " if node["agg"] == "sum" else f"{node['agg']}("
        parts = [f"{head}event {_quote(node['event'])}"]
        if node.get("where"):
            filters = " and ".join(f"{f['property']} {f['op']} {_value(f['value'])}" for f in node["where"])
            parts.append(f"where {filters}")
        if node.get("within"):
            parts.append(f"in last {_number(node['within']['last'])} {node['within']['unit']}")
        return " ".join(parts) + f") {node['op']} {_value(node['value'])}"
    op = node["op"]
    if op == "set":
        return f"{node['trait']} is set"
    if op == "not_set":
        return f"{node['trait']} is not set"
    if op == "in":
        return f"{node['trait']} in [" + ", ".join(_value(v) for v in node["value"]) + "]"
    return f"{node['trait']} {op} {_value(node['value'])}"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _number(value: int | float) -> str:
    return repr(value)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        return _quote(value)
    relative = value["now"]
    if not relative:
        return "now"
    sign, amount = ("-", relative["minus"]) if "minus" in relative else ("+", relative["plus"])
    return f"now {sign} {_number(amount)} {relative['unit']}"


# Letters of any script (trait names may be Korean), digits, _ . : (ext:shop), not first a digit.
_NAME = re.compile(r"^[^\W\d][\w.:]*$")


def check_tree(tree: Any, path: str = "tree") -> None:
    """Invalid, naming the path (tree.and[1].value), when a tree breaks the definition's shape."""
    if not isinstance(tree, dict) or len(tree) == 0:
        raise Invalid(f"{path} must be an object (a condition, or and/or/not)", field=path)
    for joiner in ("and", "or"):
        if joiner in tree:
            parts = tree[joiner]
            if len(tree) != 1 or not isinstance(parts, list) or len(parts) < 2:
                raise Invalid(
                    f"{path}.{joiner} must be the only key and list at least two conditions", field=path
                )
            for n, part in enumerate(parts):
                check_tree(part, f"{path}.{joiner}[{n}]")
            return
    if "not" in tree:
        if len(tree) != 1:
            raise Invalid(f"{path}: 'not' must be the only key", field=path)
        check_tree(tree["not"], f"{path}.not")
        return
    if "segment" in tree:
        _require_text(tree["segment"], f"{path}.segment")
        return
    if "identity" in tree:
        _require_name(tree["identity"], f"{path}.identity")
        return
    if "subscribed" in tree:
        wanted = tree["subscribed"]
        if not isinstance(wanted, dict) or not isinstance(wanted.get("channel"), str):
            raise Invalid(f'{path}.subscribed must be {{"channel", "topic"}}', field=f"{path}.subscribed")
        if not isinstance(wanted.get("topic", ""), str):
            raise Invalid(f"{path}.subscribed.topic must be text", field=f"{path}.subscribed.topic")
        return
    if "event" in tree:
        _check_event(tree, path)
        return
    if "trait" in tree:
        _check_trait(tree, path)
        return
    raise Invalid(
        f"{path} is not a condition: expected one of and, or, not, trait, event, identity, "
        "subscribed, segment",
        field=path,
    )


def _check_trait(node: dict[str, Any], path: str) -> None:
    _require_name(node["trait"], f"{path}.trait")
    op = node.get("op")
    if op not in TRAIT_OPS:
        raise Invalid(f"{path}.op must be one of {', '.join(TRAIT_OPS)}", field=f"{path}.op")
    if op in ("set", "not_set"):
        return
    if op == "in":
        values = node.get("value")
        if not isinstance(values, list) or not values:
            raise Invalid(f"{path}.value must be a non-empty list for 'in'", field=f"{path}.value")
        for n, value in enumerate(values):
            _check_value(value, f"{path}.value[{n}]")
        return
    _check_value(node.get("value"), f"{path}.value")


def _check_event(node: dict[str, Any], path: str) -> None:
    _require_text(node["event"], f"{path}.event")
    if node.get("agg") not in AGGREGATES:
        raise Invalid(f"{path}.agg must be one of {', '.join(AGGREGATES)}", field=f"{path}.agg")
    if node["agg"] == "sum":
        _require_name(node.get("property"), f"{path}.property")
    for n, item in enumerate(node.get("where") or []):
        where = f"{path}.where[{n}]"
        if not isinstance(item, dict):
            raise Invalid(f'{where} must be {{"property", "op", "value"}}', field=where)
        _require_name(item.get("property"), f"{where}.property")
        if item.get("op") not in (*COMPARISONS, "contains"):
            raise Invalid(f"{where}.op must be a comparison or contains", field=f"{where}.op")
        _check_value(item.get("value"), f"{where}.value")
    within = node.get("within")
    if within is not None:
        if (
            not isinstance(within, dict)
            or not _positive(within.get("last"))
            or within.get("unit") not in UNITS
        ):
            raise Invalid(
                f'{path}.within must be {{"last": N > 0, "unit": one of {", ".join(UNITS)}}}',
                field=f"{path}.within",
            )
    if node.get("op") not in COMPARISONS:
        raise Invalid(f"{path}.op must be one of {', '.join(COMPARISONS)}", field=f"{path}.op")
    _check_value(node.get("value"), f"{path}.value")


def _check_value(value: Any, path: str) -> None:
    if isinstance(value, bool | int | float | str):
        return
    if isinstance(value, dict) and set(value) == {"now"} and isinstance(value["now"], dict):
        relative = value["now"]
        if not relative:
            return
        signs = [s for s in ("minus", "plus") if s in relative]
        if (
            len(signs) == 1
            and _positive(relative[signs[0]])
            and relative.get("unit") in UNITS
            and len(relative) == 2
        ):
            return
    raise Invalid(
        f'{path} must be text, a number, true/false or {{"now": {{"minus": N, "unit": "days"}}}}', field=path
    )


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _require_text(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise Invalid(f"{path} must be non-empty text", field=path)


def _require_name(value: Any, path: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value) or value.lower() in KEYWORDS:
        raise Invalid(f"{path} must be a name (letters, digits, _ . :), not a keyword", field=path)
