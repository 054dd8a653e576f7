"""Data rights on both databases: export everything about a person, erase them without a trace
(every table, and on SQLite the database file and its WAL), keep only the suppression hash."""

from __future__ import annotations

import base64
import json
import random
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text

from patron import consent, gdpr
from patron.files import store_file
from patron.storage.engine import make_engine, transaction
from patron.storage.schema import erasures, files, metadata, suppressions
from patron.worker import Worker
from tests.conftest import Database, run_patron
from tests.integration.calls import api_get, post_profile


@dataclass
class Person:
    """A person with distinctive values, known to Patron through every path that stores data."""

    id: str
    visitor_id: str
    email_typed: str
    email: str
    phone_typed: str
    phone: str
    first_name: str
    last_name: str
    user_id: str
    anonymous_id: str
    other_id: str
    file_id: str

    def needles(self) -> list[str]:
        """What must not survive an erasure, lower-cased."""
        values = [self.email, self.email_typed, self.phone, self.phone_typed, self.phone.removeprefix("+1")]
        return [v.lower() for v in [*values, self.first_name, self.last_name]]


def _letters(n: int) -> str:
    return "".join(random.choices(string.ascii_lowercase, k=n))


def _basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def _process_events(db: Database) -> None:
    worker = Worker(db.engine, db.settings)
    while worker.process_events():
        pass


def make_person(client: TestClient, db: Database) -> Person:
    """Create the person by REST, track them (anonymously first, then known), give consent, and
    keep an uploaded CSV that holds their row beside someone else's."""
    tag = _letters(8)
    first, last = f"Zorbelle{tag}", f"Quixmont{tag}"
    email_typed = f"Erase.Me.{tag}@Example.com"
    phone_typed = f"(415) 826-{random.randint(1000, 9999)}"
    profile = post_profile(
        client,
        db,
        {"email": email_typed, "phone": phone_typed, "first_name": first, "last_name": last, "country": "US"},
    )
    user_id, anonymous_id = f"user-{tag}", f"anon-{tag}"
    track = _basic(db.write_key)
    client.post("/v1/page", json={"anonymousId": anonymous_id, "name": "Pricing"}, headers=track)
    _process_events(db)
    visitor = api_get(client, db, "/api/v1/profiles/lookup", anonymous_id=anonymous_id)
    sent = [
        ("/v1/identify", {"userId": user_id, "anonymousId": anonymous_id, "traits": {"email": email_typed}}),
        (
            "/v1/track",
            {"userId": user_id, "event": "Order Completed", "properties": {"order_id": f"o-{tag}"}},
        ),
        # A camelCase property breaks the naming convention: the plan keeps the message as an example.
        (
            "/v1/track",
            {"userId": user_id, "event": "Callback Requested", "properties": {"callMe": phone_typed}},
        ),
        ("/v1/group", {"userId": user_id, "groupId": f"acct-{tag}", "traits": {"name": "Acme"}}),
        # No userId or anonymousId: rejected, and the rejected-events log keeps the payload.
        ("/v1/track", {"event": "Newsletter Signup", "properties": {"email": email_typed, "name": first}}),
    ]
    for path, body in sent:
        assert client.post(path, json=body, headers=track).status_code in (200, 400), path
    _process_events(db)
    other_email = f"someone.else.{tag}@example.com"
    csv_bytes = (
        "first_name,last_name,email,phone\r\n"
        f"Ann,Other,{other_email},\r\n"
        f'{first},"{last}\nsecond line",{email_typed},{phone_typed}\r\n'
    ).encode("utf-8-sig")
    with transaction(db.engine) as conn:
        consent.create_topic(conn, {"key": f"news_{tag}", "name": "News"})
        consent.change_consent(
            conn,
            db.settings,
            profile["id"],
            consent.Change(
                channel="email", topic=f"news_{tag}", action="grant", method="admin", notice_version="v3"
            ),
            double_opt_in=False,
        )
        consent.set_preferences(conn, profile["id"], frequency="weekly")
        file_id = store_file(conn, "contacts.csv", csv_bytes)
    return Person(
        id=profile["id"],
        visitor_id=visitor["id"],
        email_typed=email_typed,
        email=email_typed.lower(),
        phone_typed=phone_typed,
        phone="+1" + "".join(c for c in phone_typed if c.isdigit()),
        first_name=first,
        last_name=last,
        user_id=user_id,
        anonymous_id=anonymous_id,
        other_id=other_email,
        file_id=file_id,
    )


def leftovers(db: Database, needles: list[str]) -> list[str]:
    """table.column: needle, for every stored value (any column of any table) holding a needle."""
    found = []
    with transaction(db.engine, write=False) as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes | memoryview):
                        text = bytes(value).decode("utf-8", errors="replace")
                    else:
                        text = json.dumps(value, default=str, ensure_ascii=False)
                    found += [f"{table.name}.{column}: {n}" for n in needles if n in text.lower()]
    return found


def file_leftovers(url: str, needles: list[str]) -> list[str]:
    """Needles in the SQLite database file and its WAL.

    Read by another process: closing a file descriptor of the database drops every POSIX lock
    this process's SQLite connections hold on it, and the next `patron` command would then take
    itself for the last user and delete the WAL from under them."""
    path = Path(url.removeprefix("sqlite:///"))
    found = []
    for part in (path, Path(f"{path}-wal")):
        if part.exists():
            data = subprocess.run(["cat", str(part)], capture_output=True, check=True).stdout.lower()
            found += [f"{part.name}: {n}" for n in needles if n.encode() in data]
    return found


@pytest.fixture
def person(api: TestClient, db: Database) -> Person:
    return make_person(api, db)


def test_export_holds_every_section_through_the_api_and_the_cli(
    api: TestClient, db: Database, person: Person
) -> None:
    response = api.post(f"/api/v1/profiles/{person.id}/gdpr/export")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["exported_at"] and data["messages"] == []
    assert data["profile"]["id"] == person.id
    email_trait = data["profile"]["traits"]["email"]
    assert email_trait["value"] == person.email and email_trait["source"] == "crm" and email_trait["at"]
    assert data["profile"]["traits"]["first_name"]["value"] == person.first_name
    kinds = {(i["kind"], i["value"]) for i in data["identities"]}
    assert {("email", person.email), ("phone", person.phone), ("user_id", person.user_id)} <= kinds
    assert ("anonymous_id", person.anonymous_id) in kinds
    events = {(e["type"], e["event"]): e for e in data["events"]}
    order = events[("track", "Order Completed")]
    assert order["properties"]["order_id"] == person.user_id.replace("user-", "o-")
    assert ("page", "Pricing") in events and ("identify", None) in events
    topic = next(key for key in data["consent"]["channels"]["email"]["topics"] if key.startswith("news_"))
    assert data["consent"]["channels"]["email"]["topics"][topic] == "subscribed"
    grants = [row for row in data["consent_ledger"] if row["action"] == "grant"]
    assert (
        grants[0]["topic"] == topic and grants[0]["notice_version"] == "v3" and grants[0]["method"] == "admin"
    )
    assert data["preferences"]["frequency"] == "weekly"
    assert [a["group_id"] for a in data["accounts"]] == [f"acct-{person.user_id.removeprefix('user-')}"]
    assert [(m["kept_id"], m["absorbed_id"]) for m in data["merges"]] == [(person.id, person.visitor_id)]

    # The CLI, by email as typed, and by the id of the visitor profile merged into the person.
    by_email = json.loads(run_patron(db, "gdpr", "export", "--email", person.email_typed).stdout)
    assert by_email["profile"] == data["profile"] and len(by_email["events"]) == len(data["events"])
    by_old_id = json.loads(run_patron(db, "gdpr", "export", "--id", person.visitor_id).stdout)
    assert by_old_id["profile"]["id"] == person.id


def test_export_to_a_file(db: Database, person: Person, workdir: Path) -> None:
    target = workdir / "me.json"
    result = run_patron(db, "gdpr", "export", "--id", person.id, "--output", str(target), "--json")
    assert json.loads(result.stdout)["output"] == str(target)
    assert json.loads(target.read_text(encoding="utf-8"))["profile"]["id"] == person.id


def _assert_erased(api: TestClient, db: Database, person: Person, record: dict[str, Any]) -> None:
    assert record["erased"] == person.id
    removed = record["removed"]
    assert removed["profiles"] == 1 and removed["identities"] >= 4 and removed["events"] >= 4
    assert removed["profile_merges"] == 1 and removed["rejected_events"] == 1
    assert removed["plan_violations"] >= 1 and removed["files.records"] == 1
    assert removed["consent_ledger"] >= 1 and removed["account_members"] == 1
    assert leftovers(db, person.needles()) == []
    if db.name == "sqlite":
        assert file_leftovers(db.url, person.needles()) == []
    with transaction(db.engine, write=False) as conn:
        kept = conn.execute(select(erasures).where(erasures.c.id == record["erasure_id"])).mappings().one()
        reasons = set(conn.execute(select(suppressions.c.channel, suppressions.c.reason)).all())
        stored = [bytes(c) for c in conn.execute(select(files.c.content)).scalars()]
    assert kept["profile_id"] == person.id and kept["removed"] == removed
    assert {("email", "erasure"), ("sms", "erasure")} <= reasons
    # The other person's row of the uploaded file is still there.
    assert any(person.other_id.encode() in content for content in stored)
    for path in (f"/api/v1/profiles/{person.id}", f"/api/v1/profiles/{person.visitor_id}"):
        got = api.get(path)
        assert got.status_code == 404, (path, got.status_code, got.text)
    assert api.post(f"/api/v1/profiles/{person.id}/gdpr/export").status_code == 404
    assert api.post(f"/api/v1/profiles/{person.id}/gdpr/erase").status_code == 404


def _reimported_is_not_mailable(api: TestClient, db: Database, person: Person) -> None:
    again = post_profile(api, db, {"email": person.email_typed, "country": "US"})
    assert again["id"] != person.id
    with transaction(db.engine, write=False) as conn:
        decision = consent.can_send(conn, again["id"], "email")
    assert not decision.allowed and "suppressed" in decision.reason


def test_erase_through_the_api_leaves_no_trace(api: TestClient, db: Database, person: Person) -> None:
    with transaction(db.engine, write=False) as conn:
        # Without the suppression, this US contact (opt-out region) could be mailed.
        assert consent.can_send(conn, person.id, "email").allowed
    assert any(v.endswith(person.email) for v in leftovers(db, [person.email]))  # the scan finds things
    response = api.post(f"/api/v1/profiles/{person.id}/gdpr/erase")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"erased", "removed", "erasure_id"}
    _assert_erased(api, db, person, response.json())
    _reimported_is_not_mailable(api, db, person)


def test_erase_through_the_cli_leaves_no_trace(api: TestClient, db: Database, person: Person) -> None:
    refused = run_patron(db, "gdpr", "erase", "--email", person.email_typed, check=False, input_text="n\n")
    assert refused.returncode != 0 and "nothing erased" in refused.stderr
    assert api.get(f"/api/v1/profiles/{person.id}").status_code == 200
    result = run_patron(db, "gdpr", "erase", "--email", person.email_typed, "--yes", "--json")
    record = json.loads(result.stdout)
    assert (record["actor"], record["method"], record["other_profiles"]) == ("cli", "cli", [])
    assert record["suppressed"] == 2  # the email and the phone, as hashes
    _assert_erased(api, db, person, record)
    _reimported_is_not_mailable(api, db, person)


def test_the_cli_names_what_is_wrong(db: Database) -> None:
    unknown = run_patron(db, "gdpr", "export", "--email", "nobody.here@example.com", check=False)
    assert unknown.returncode != 0 and "no profile has the email address" in unknown.stderr
    unknown_id = run_patron(db, "gdpr", "erase", "--id", "01HXXXXXXXXXXXXXXXXXXXXXXX", "--yes", check=False)
    assert unknown_id.returncode != 0 and "no profile with id" in unknown_id.stderr
    both = run_patron(db, "gdpr", "erase", "--email", "a@example.com", "--id", "x", "--yes", check=False)
    assert both.returncode != 0 and "exactly one" in both.stderr
    neither = run_patron(db, "gdpr", "export", check=False)
    assert neither.returncode != 0 and "exactly one" in neither.stderr


def test_an_unknown_id_is_404_in_the_api(api: TestClient) -> None:
    for action in ("export", "erase"):
        response = api.post(f"/api/v1/profiles/01HXXXXXXXXXXXXXXXXXXXXXXX/gdpr/{action}")
        assert response.status_code == 404 and "no profile with id" in response.json()["error"]["message"]


def test_find_subject_follows_merges_and_normalises_email(db: Database, api: TestClient) -> None:
    person = make_person(api, db)
    with transaction(db.engine, write=False) as conn:
        assert gdpr.find_subject(conn, email=f"  {person.email.upper()} ") == person.id
        assert gdpr.find_subject(conn, profile_id=person.visitor_id) == person.id


def test_scrub_rebuilds_the_sqlite_file_when_secure_delete_is_off(workdir: Path) -> None:
    url = f"sqlite:///{workdir / 'scrub.db'}"
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _insecure(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.execute("PRAGMA secure_delete=OFF")

    secret = f"Vexmorian-{_letters(10)}"
    with transaction(engine) as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
        conn.execute(text("INSERT INTO notes VALUES (:body)"), [{"body": f"{secret} {n}"} for n in range(50)])
    with transaction(engine) as conn:
        conn.execute(text("DELETE FROM notes"))
    assert file_leftovers(url, [secret.lower()])  # deleted, yet still in the file or the WAL
    assert gdpr.scrub(engine) == {"vacuumed": True, "checkpointed": True}
    assert file_leftovers(url, [secret.lower()]) == []
    engine.dispose()
