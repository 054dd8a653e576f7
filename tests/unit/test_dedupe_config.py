"""Match configuration files: shapes accepted, and errors that name the key and the reason."""

import json

import pytest

from patron.dedupe.config import DEFAULT_CONFIG, KINDS, load_config, parse_config
from patron.errors import Invalid


def test_defaults_cover_the_standard_traits():
    assert {"first_name", "last_name", "email", "phone", "birthday"} <= set(DEFAULT_CONFIG.fields)
    assert set(DEFAULT_CONFIG.fields.values()) <= set(KINDS)
    assert 0 < DEFAULT_CONFIG.review_threshold <= DEFAULT_CONFIG.auto_threshold < 1


def test_json_file_replaces_the_defaults(tmp_path):
    path = tmp_path / "match.json"
    path.write_text(json.dumps({
        "fields": {"email": "email", "loyalty_no": "identifier"},
        "thresholds": {"auto": 0.97, "review": 0.7},
        "survivorship": {"default": "most_complete", "fields": {"email": "most_recent"}},
        "source_priority": ["crm", "shop"],
    }))  # fmt: skip
    config = load_config(path)
    assert config.fields == {"email": "email", "loyalty_no": "identifier"}
    assert (config.auto_threshold, config.review_threshold) == (0.97, 0.7)
    assert config.default_rule == "most_complete"
    assert config.survivorship == {"email": "most_recent"}
    assert config.source_priority == ("crm", "shop")


def test_yaml_file_is_read_by_suffix(tmp_path):
    path = tmp_path / "match.yaml"
    path.write_text("fields:\n  first_name: name\n  birthday: date\n")
    assert load_config(path).fields == {"first_name": "name", "birthday": "date"}


@pytest.mark.parametrize(
    ("data", "key", "words"),
    [
        ({"fields": {"email": "mail"}}, "fields.email", "unknown kind"),
        ({"fields": {}}, "fields", "at least one"),
        ({"fields": {"email": "email"}, "thresholds": {"auto": 1.5}}, "thresholds.auto", "between 0 and 1"),
        ({"fields": {"email": "email"}, "thresholds": {"auto": 0.8, "review": 0.9}}, "thresholds.review",
         "must not exceed"),
        ({"fields": {"email": "email"}, "treshold": {}}, "treshold", "unknown key"),
        ({"fields": {"email": "email"}, "thresholds": {"merge": 0.9}}, "thresholds.merge", "unknown thre"),
        ({"fields": {"email": "email"}, "source_priority": "crm"}, "source_priority", "list"),
    ],
)  # fmt: skip
def test_bad_configuration_names_the_key_and_reason(data, key, words):
    with pytest.raises(Invalid) as error:
        parse_config(data)
    assert error.value.field == key
    assert words in error.value.message


def test_unreadable_or_malformed_files_are_invalid(tmp_path):
    with pytest.raises(Invalid, match="cannot read"):
        load_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{fields:")
    with pytest.raises(Invalid, match="not valid JSON"):
        load_config(bad)
    odd = tmp_path / "match.toml"
    odd.write_text("")
    with pytest.raises(Invalid, match=".json, .yaml or .yml"):
        load_config(odd)
