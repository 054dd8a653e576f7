"""The duplicates admin over HTTP: review a pair side by side, merge, see why, undo; or keep them apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from patron.worker import Worker
from tests.conftest import Database
from tests.integration.calls import api_get, post_profile
from tests.integration.test_admin import csrf_of, log_in

EMAIL = "a@x.com"
PHONE = "+821012345678"


@dataclass(frozen=True)
class Pair:
    """Two profiles one record linked, and their place in the review queue."""

    candidate_id: int
    first: str  # holds EMAIL; the older one, so it survives a merge
    second: str  # holds PHONE


def profile_exists(client: TestClient, db: Database, profile_id: str) -> bool:
    response = client.get(
        f"/api/v1/profiles/{profile_id}", headers={"Authorization": f"Bearer {db.admin_key}"}
    )
    return response.status_code == 200


def make_pair(client: TestClient, db: Database, email: str, phone: str, **second_traits: str) -> Pair:
    """One profile with an email, one with a phone, then a record carrying both: a candidate at ingest."""
    first = post_profile(client, db, {"email": email, "first_name": "Ann"}, source="api")
    second = post_profile(client, db, {"phone": phone, "first_name": "Anne", **second_traits}, source="shop")
    linking = post_profile(client, db, {"email": email, "phone": phone}, source="api")
    assert linking["merge_candidates"] == [second["id"]]
    queue = api_get(client, db, "/api/v1/duplicates")["data"]
    [candidate] = [c for c in queue if {p["id"] for p in c["profiles"]} == {first["id"], second["id"]}]
    return Pair(candidate["id"], first["id"], second["id"])


@pytest.fixture
def pair(app_client: TestClient, db: Database) -> Pair:
    made = make_pair(app_client, db, EMAIL, PHONE, company="<script>alert(1)</script>")
    log_in(app_client, db)
    return made


def decide(client: TestClient, candidate_id: int, decision: str) -> object:
    token = csrf_of(client.get(f"/admin/duplicates/{candidate_id}").text)
    return client.post(
        f"/admin/duplicates/{candidate_id}",
        data={"csrf_token": token, "decision": decision},
        follow_redirects=False,
    )


def test_the_queue_lists_the_pair_and_its_page_shows_both_side_by_side(
    app_client: TestClient, pair: Pair
) -> None:
    queue = app_client.get("/admin/duplicates")
    assert queue.status_code == 200
    assert re.search(r'data-testid="open-pairs">1 to review<', queue.text)
    assert EMAIL in queue.text and PHONE in queue.text and "matches both profiles" in queue.text
    assert f'href="/admin/duplicates/{pair.candidate_id}"' in queue.text
    assert '<a href="/admin/duplicates" aria-current="page">Duplicates</a>' in queue.text

    page = app_client.get(f"/admin/duplicates/{pair.candidate_id}")
    assert page.status_code == 200
    assert f'href="/admin/contacts/{pair.first}"' in page.text
    assert f'href="/admin/contacts/{pair.second}"' in page.text
    assert EMAIL in page.text and PHONE in page.text
    assert '<tr class="differs">' in page.text  # first_name: Ann and Anne
    assert "One record from <strong>api</strong> carried identities of both profiles" in page.text
    for button in ("Merge", "Not the same person", "Skip"):
        assert f">{button}</button>" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text


def test_merging_leaves_one_profile_with_its_evidence_and_undo_brings_both_back(
    app_client: TestClient, db: Database, pair: Pair
) -> None:
    merged = decide(app_client, pair.candidate_id, "merge")
    assert merged.status_code == 303
    location = merged.headers["location"]
    merge_id = int(re.fullmatch(r"/admin/duplicates\?done=merge&merge=(\d+)", location).group(1))
    after = app_client.get(location).text
    assert "Merged." in after and f'href="/admin/merges/{merge_id}"' in after
    assert "No pairs are waiting for review." in after
    assert profile_exists(app_client, db, pair.first) and not profile_exists(app_client, db, pair.second)

    history = app_client.get("/admin/merges").text
    assert f'href="/admin/merges/{merge_id}"' in history and pair.second in history
    assert "admin:admin@example.com" in history

    merge = app_client.get(f"/admin/merges/{merge_id}")
    assert merge.status_code == 200
    assert f"<code>{pair.second}</code> was merged into" in merge.text
    assert "carried identities of both profiles" in merge.text  # the evidence
    survivorship = merge.text.split('id="survivorship-heading"')[1].split("</section>")[0]
    assert "first_name" in survivorship and "<del>" in survivorship  # Ann or Anne lost, and is kept here
    held = merge.text.split('id="absorbed-heading"')[1]
    assert PHONE in held and "Anne" in held
    assert ">Undo merge</button>" in merge.text

    contact = app_client.get(f"/admin/contacts/{pair.first}").text
    assert "Merge history" in contact and f'href="/admin/merges/{merge_id}"' in contact
    # An old link to the absorbed profile leads to the one it lives on as.
    gone = app_client.get(f"/admin/contacts/{pair.second}", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == f"/admin/contacts/{pair.first}"

    undone = app_client.post(
        f"/admin/merges/{merge_id}/undo", data={"csrf_token": csrf_of(merge.text)}, follow_redirects=False
    )
    assert undone.status_code == 303 and undone.headers["location"] == f"/admin/merges/{merge_id}"
    assert profile_exists(app_client, db, pair.first) and profile_exists(app_client, db, pair.second)
    page = app_client.get(f"/admin/merges/{merge_id}").text
    assert 'data-testid="undone"' in page and ">Undo merge</button>" not in page
    assert "undone" in app_client.get("/admin/merges").text

    again = app_client.post(f"/admin/merges/{merge_id}/undo", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409
    assert 'role="alert">merge' in again.text and "already undone" in again.text


def test_not_the_same_person_is_remembered_and_cannot_be_decided_twice(
    app_client: TestClient, db: Database, pair: Pair
) -> None:
    response = decide(app_client, pair.candidate_id, "distinct")
    assert response.status_code == 303 and response.headers["location"] == "/admin/duplicates?done=distinct"
    assert "Marked as not the same person" in app_client.get(response.headers["location"]).text
    assert [c["id"] for c in api_get(app_client, db, "/api/v1/duplicates", status="distinct")["data"]] == [
        pair.candidate_id
    ]
    page = app_client.get(f"/admin/duplicates/{pair.candidate_id}").text
    assert "Already decided: <strong>not the same person</strong>" in page
    assert 'value="merge"' not in page
    again = app_client.post(
        f"/admin/duplicates/{pair.candidate_id}",
        data={"csrf_token": csrf_of(page), "decision": "merge"},
    )
    assert again.status_code == 409 and "was already decided (distinct)" in again.text
    assert profile_exists(app_client, db, pair.second)


def test_after_a_decision_the_next_pair_opens_and_a_skipped_pair_waits_at_the_back(
    app_client: TestClient, db: Database, pair: Pair
) -> None:
    other = make_pair(app_client, db, "b@x.com", "+821098765432")
    response = decide(app_client, pair.candidate_id, "skip")
    assert response.headers["location"] == f"/admin/duplicates/{other.candidate_id}?done=skip"
    assert "Skipped" in app_client.get(response.headers["location"]).text
    queue = app_client.get("/admin/duplicates").text
    assert queue.index("b@x.com") < queue.index(EMAIL) and "skipped</span>" in queue
    response = decide(app_client, other.candidate_id, "skip")
    assert response.headers["location"] == f"/admin/duplicates/{pair.candidate_id}?done=skip"


def test_find_duplicates_now_runs_a_dedupe_job_whose_merges_show_the_weight_of_each_field(
    app_client: TestClient, db: Database, pair: Pair
) -> None:
    post_profile(app_client, db, {"email": "ann.kim@gmail.com", "first_name": "Ann"})
    post_profile(app_client, db, {"email": "annkim@gmail.com", "first_name": "Ann", "last_name": "Kim"})
    queue = app_client.get("/admin/duplicates").text
    response = app_client.post(
        "/admin/duplicates/run", data={"csrf_token": csrf_of(queue)}, follow_redirects=False
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    assert re.fullmatch(r"/admin/jobs/\d+", job_url)
    Worker(db.engine, db.settings).run_once()
    job = app_client.get(job_url + ".json").json()
    assert (job["kind"], job["status"]) == ("dedupe", "succeeded"), job
    history = app_client.get("/admin/merges").text
    assert "admin:admin@example.com" in history  # the run merged the Gmail address written twice
    merge_url = re.search(r'href="(/admin/merges/\d+)"', history).group(1)
    merge = app_client.get(merge_url).text
    evidence = merge.split('id="evidence-heading"')[1].split("</section>")[0]
    assert "Match probability <strong>" in evidence and "same mailbox" in evidence
    assert '<svg role="img" aria-label="weight +' in evidence and 'class="weight-for"' in evidence

    # The run scored the pair recorded at ingest: its page now weighs each field.
    page = app_client.get(f"/admin/duplicates/{pair.candidate_id}").text
    scored = page.split('id="evidence-heading"')[1]
    assert 'data-testid="probability"' in page and '<th scope="col">Compared as</th>' in scored
    assert '<th scope="row">phone</th>' in scored and 'aria-label="weight ' in scored


def test_decisions_need_the_form_token_and_unknown_pairs_and_merges_say_so(
    app_client: TestClient, pair: Pair
) -> None:
    forged = app_client.post(
        f"/admin/duplicates/{pair.candidate_id}", data={"csrf_token": "forged", "decision": "merge"}
    )
    assert forged.status_code == 403
    token = csrf_of(app_client.get(f"/admin/duplicates/{pair.candidate_id}").text)
    undecided = app_client.post(f"/admin/duplicates/{pair.candidate_id}", data={"csrf_token": token})
    assert undecided.status_code == 422 and "is not one of merge, distinct, skip" in undecided.text
    missing = app_client.get("/admin/duplicates/999999")
    assert missing.status_code == 404 and "duplicate candidate 999999 does not exist" in missing.text
    assert app_client.get("/admin/merges/999999").status_code == 404
    token = csrf_of(app_client.get("/admin/merges").text)
    undo = app_client.post("/admin/merges/999999/undo", data={"csrf_token": token})
    assert undo.status_code == 404 and "merge 999999 does not exist" in undo.text
