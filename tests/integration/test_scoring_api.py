"""Scoring and computed traits over the REST API and the `patron scoring` command."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from patron import scoring
from patron.storage.engine import transaction
from tests.conftest import Database, run_patron
from tests.integration.test_computed_traits import days_ago, person, track

PRICING = {"name": "Viewed pricing", "kind": "event", "event": "Page Viewed", "points": 5,
           "where": [{"property": "path", "op": "=", "value": "/pricing"}]}  # fmt: skip


def test_rules_stages_settings_and_a_score_explained_over_rest(db: Database, api: TestClient) -> None:
    with transaction(db.engine) as conn:
        scoring.seed_stages(conn)
    kim = person(api, "kim", country="KR")
    made = api.post("/api/v1/scoring/rules", json=PRICING)
    assert made.status_code == 201, made.text
    rule = made.json()
    assert rule["kind"] == "event" and rule["points"] == 5 and rule["repeat"] == "each"
    korea = api.post(
        "/api/v1/scoring/rules",
        json={"name": "In Korea", "kind": "trait", "condition": 'country = "KR"', "points": 8},
    ).json()
    assert korea["definition"] == 'country = "KR"' and korea["condition"]["trait"] == "country"
    assert [r["id"] for r in api.get("/api/v1/scoring/rules").json()["data"]] == [rule["id"], korea["id"]]

    track(
        api,
        db,
        [{"userId": "kim", "event": "Page Viewed", "at": days_ago(0), "properties": {"path": "/pricing"}}],
    )
    with transaction(db.engine) as conn:
        scoring.react(conn, [kim])
    told = api.get(f"/api/v1/profiles/{kim}/score").json()
    assert told["score"] == 13 and told["stage"] == "lead"
    assert {c["rule_id"] for c in told["changes"] if c["points"]} == {rule["id"], korea["id"]}

    changed = api.patch(f"/api/v1/scoring/rules/{korea['id']}", json={"points": 2})
    assert changed.status_code == 200 and changed.json()["points"] == 2
    assert api.get(f"/api/v1/profiles/{kim}").json()["traits"]["lead_score"] == 7
    assert api.delete(f"/api/v1/scoring/rules/{korea['id']}").status_code == 204
    assert api.get(f"/api/v1/scoring/rules/{korea['id']}").status_code == 404

    assert api.get("/api/v1/scoring/stages").json()["stages"][1] == {"name": "lead", "threshold": 10}
    stages = api.put("/api/v1/scoring/stages", json={"stages": [{"name": "warm", "threshold": 1}]})
    assert stages.json() == {"stages": [{"name": "warm", "threshold": 1}]}
    assert api.get(f"/api/v1/profiles/{kim}").json()["traits"]["lead_stage"] == "warm"

    assert api.get("/api/v1/scoring/settings").json() == {"half_life_days": 30}
    assert api.put("/api/v1/scoring/settings", json={"half_life_days": 7}).json() == {"half_life_days": 7}
    assert api.get("/api/v1/profiles/nope/score").status_code == 404


def test_mistakes_come_back_naming_the_field(api: TestClient) -> None:
    bad = api.post("/api/v1/scoring/rules", json={**PRICING, "points": "lots"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "points"
    bad_condition = api.post("/api/v1/scoring/rules", json={"name": "x", "kind": "trait", "points": 1,
                                                            "condition": "country ="})  # fmt: skip
    assert bad_condition.status_code == 422 and "line 1" in bad_condition.json()["error"]["message"]
    bad_stage = api.put("/api/v1/scoring/stages", json={"stages": [{"name": "a", "threshold": "high"}]})
    assert (
        bad_stage.status_code == 422
        and bad_stage.json()["error"]["details"]["field"] == "stages[0].threshold"
    )
    bad_half_life = api.put("/api/v1/scoring/settings", json={"half_life_days": -1})
    assert bad_half_life.status_code == 422


def test_computed_traits_over_rest(db: Database, api: TestClient) -> None:
    kim = person(api, "kim")
    track(
        api,
        db,
        [{"userId": "kim", "event": "Order Completed", "at": days_ago(1), "properties": {"revenue": 80}}],
    )
    made = api.post(
        "/api/v1/computed-traits",
        json={"name": "big_orders", "kind": "count", "event": "Order Completed",
              "where": [{"property": "revenue", "op": ">", "value": 50}]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["type"] == "number"
    assert api.get(f"/api/v1/profiles/{kim}").json()["traits"]["big_orders"] == 1
    assert "big_orders" in [t["name"] for t in api.get("/api/v1/computed-traits").json()["data"]]
    assert api.get("/api/v1/computed-traits/big_orders").json()["event"] == "Order Completed"
    assert (
        api.post(
            "/api/v1/computed-traits", json={"name": "big_orders", "kind": "count", "event": "X"}
        ).status_code
        == 409
    )
    refused = api.post("/api/v1/computed-traits", json={"name": "n", "kind": "sum", "event": "X"})
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "property"
    assert api.delete("/api/v1/computed-traits/big_orders").status_code == 204
    assert api.get("/api/v1/computed-traits/big_orders").status_code == 404
    assert "big_orders" not in api.get(f"/api/v1/profiles/{kim}").json()["traits"]


def patron_json(db: Database, *args: str) -> dict:
    return json.loads(run_patron(db, "scoring", *args, "--json").stdout)


def test_rules_stages_and_explain_from_the_command_line(db: Database, api: TestClient) -> None:
    with transaction(db.engine) as conn:
        scoring.seed_stages(conn)
    person(api, "kim", country="KR")
    rule = patron_json(db, "add-rule", "Viewed pricing", "--points", "5", "--event", "Page Viewed",
                       "--where", 'path = "/pricing"', "--once")  # fmt: skip
    assert (
        rule["where"] == [{"property": "path", "op": "=", "value": "/pricing"}] and rule["repeat"] == "once"
    )
    korea = patron_json(db, "add-rule", "In Korea", "--points", "12", "--condition", 'country = "KR"')
    assert korea["kind"] == "trait"
    assert [r["name"] for r in patron_json(db, "rules")["data"]] == ["Viewed pricing", "In Korea"]
    assert patron_json(db, "stages")["stages"][0] == {"name": "subscriber", "threshold": 0}

    told = patron_json(db, "explain", "--email", "kim@example.com")
    assert told["score"] == 12 and told["stage"] == "lead"
    assert told["changes"][0]["reason"].startswith("stage ") or told["changes"][1]["reason"].startswith(
        "stage "
    )
    human = run_patron(db, "scoring", "explain", "--email", "kim@example.com").stdout
    assert "In Korea" in human and "lead" in human

    in_list = ["--where", "path in [1]"]
    bad = run_patron(db, "scoring", "add-rule", "x", "--points", "1", "--event", "E", *in_list, check=False)
    assert bad.returncode != 0 and "--where" in bad.stdout + bad.stderr
    missing = run_patron(db, "scoring", "explain", "--email", "nobody@example.com", check=False)
    assert missing.returncode != 0 and "nobody@example.com" in missing.stdout + missing.stderr
