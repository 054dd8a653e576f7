"""The `patron` command, run through its real entry point."""

from __future__ import annotations

import csv
import json
import select
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from patron.fields import define_field
from patron.storage import transaction
from tests.conftest import Database, run_patron

SHOP = (
    "Customer ID,First Name,Last Name,E-mail,Phone,Country,Total Spent\n"
    "C1,Minjun,Kim, Kim.MinJun@Example.COM ,010-1234-5678,KR,129.90\n"
    "C2,Emily,Carter,emily@example.com,(415) 234-5678,US,12\n"
    "C3,Bad,Email,kim@@naver.com,,US,5\n"
    "C4,Only,Flagged,only@@x.com,+1 415 234 5679,US,abc\n"
    "C5,Too,Many,a@b.co,1,2,3,4,5\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def import_json(db: Database, path: Path, *args: str) -> dict:
    return json.loads(run_patron(db, "import", str(path), "--json", *args).stdout)


def test_init_prints_keys_once_and_is_idempotent(db: Database) -> None:
    again = json.loads(run_patron(db, "init", "--json").stdout)
    assert again["first_run"] is False and again["admin_api_key"] is None
    assert again["admin_email"] == "admin@example.com"


def test_init_on_an_empty_database_creates_the_keys(tmp_path: Path) -> None:
    fresh = Database("sqlite", f"sqlite:///{tmp_path / 'fresh.db'}", None, None)  # type: ignore[arg-type]
    result = json.loads(run_patron(fresh, "init", "--json").stdout)
    assert result["admin_api_key"].startswith("pat_") and result["write_key"].startswith("pwk_")
    assert result["admin_password"] and result["admin_email"] == "admin@example.com"


def test_apikey_create_prints_the_key_and_scope(db: Database) -> None:
    created = json.loads(run_patron(db, "apikey", "create", "--scope", "write", "--json").stdout)
    assert created["scope"] == "write" and created["key"].startswith("pwk_")
    bad = run_patron(db, "apikey", "create", "--scope", "root", "--json", check=False)
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["message"].startswith("scope 'root'")


def test_import_counts_every_row_and_explains_each_problem(db: Database, workdir: Path) -> None:
    with transaction(db.engine) as conn:
        define_field(conn, "total_spent", "number")
    path = write(workdir / "shop.csv", SHOP)
    summary = import_json(
        db, path, "--source", "shop", "--id-column", "Customer ID", "--map", "Total Spent=total_spent"
    )
    assert {k: summary[k] for k in ("rows", "created", "updated", "flagged", "rejected")} == {
        "rows": 5,
        "created": 4,
        "updated": 0,
        "flagged": 2,
        "rejected": 1,
    }
    assert summary["seconds"] >= 0
    with open(summary["rejects_file"], encoding="utf-8-sig", newline="") as handle:
        rejects = {row["Customer ID"]: row for row in csv.DictReader(handle)}
    assert (
        rejects["C5"]["_outcome"] == "rejected" and "expected 7 fields, found 9" in rejects["C5"]["_reason"]
    )
    assert rejects["C3"]["_outcome"].startswith("flagged")  # the shop id still identifies them
    assert "E-mail: 'kim@@naver.com'" in rejects["C3"]["_reason"]
    assert "Total Spent" in rejects["C4"]["_reason"] and "'abc' is not a number" in rejects["C4"]["_reason"]


def test_imported_people_are_found_by_normalised_email_and_phone(db: Database, workdir: Path) -> None:
    import_json(db, write(workdir / "shop.csv", SHOP), "--source", "shop", "--id-column", "Customer ID")
    from fastapi.testclient import TestClient

    from patron.web.app import create_app

    with TestClient(create_app(db.settings, engine=db.engine)) as client:
        client.headers["Authorization"] = f"Bearer {db.admin_key}"
        by_email = client.get("/api/v1/profiles/lookup", params={"email": " Kim.MinJun@Example.COM "}).json()
        by_phone = client.get(
            "/api/v1/profiles/lookup", params={"phone": "010-1234-5678", "country": "KR"}
        ).json()
        by_id = client.get("/api/v1/profiles/lookup", params={"kind": "ext:shop", "value": "C1"}).json()
    assert by_email["id"] == by_phone["id"] == by_id["id"]
    assert by_email["traits"]["email"] == "kim.minjun@example.com"
    assert by_phone["traits"]["phone"] == "+821012345678"


def test_importing_the_same_file_twice_changes_nothing(db: Database, workdir: Path) -> None:
    path = write(workdir / "shop.csv", SHOP)
    import_json(db, path, "--source", "shop", "--id-column", "Customer ID")
    again = import_json(db, path, "--source", "shop", "--id-column", "Customer ID")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_korean_excel_export_in_cp949_maps_korean_headers(db: Database, workdir: Path) -> None:
    text = (
        "고객번호,성,이름,이메일,휴대폰,회사,생년월일\n"
        "K-1,김,민준,minjun@example.com,010-2222-3333,한빛소프트,1988.03.14\n"
    )
    path = write(workdir / "crm.csv", text, "cp949")
    summary = import_json(db, path, "--source", "crm", "--id-column", "고객번호")
    assert summary["encoding"] == "cp949" and summary["created"] == 1
    assert summary["columns"]["이메일"] == "email" and summary["columns"]["휴대폰"] == "phone"
    exported = [json.loads(line) for line in run_patron(db, "export").stdout.splitlines()]
    traits = exported[0]["traits"]
    assert (traits["last_name"], traits["first_name"], traits["company"]) == ("김", "민준", "한빛소프트")
    assert traits["birthday"] == "1988-03-14"
    assert {"kind": "ext:crm", "value": "K-1"} in exported[0]["identities"]


def test_people_in_two_apps_become_one_profile(db: Database, workdir: Path) -> None:
    import_json(db, write(workdir / "shop.csv", SHOP), "--source", "shop", "--id-column", "Customer ID")
    crm = write(workdir / "crm.csv", "이메일,휴대폰,직책\nKIM.MINJUN@example.com,,팀장\n", "cp949")
    summary = import_json(db, crm, "--source", "crm")
    assert (summary["created"], summary["updated"]) == (0, 1)


def test_a_map_naming_a_missing_column_fails_before_importing(db: Database, workdir: Path) -> None:
    path = write(workdir / "shop.csv", SHOP)
    result = run_patron(db, "import", str(path), "--source", "shop", "--map", "Mobile=phone", check=False)
    assert result.returncode == 2
    assert "'Mobile' is not in the file" in result.stderr
    assert json.loads(run_patron(db, "export").stdout or "null") is None


def test_import_without_schema_tells_the_user_to_init(tmp_path: Path, workdir: Path) -> None:
    empty = Database("sqlite", f"sqlite:///{tmp_path / 'empty.db'}", None, None)  # type: ignore[arg-type]
    result = run_patron(empty, "import", str(write(workdir / "a.csv", SHOP)), "--source", "shop", check=False)
    assert result.returncode != 0 and "patron init" in result.stderr


def test_export_csv_has_standard_then_custom_columns(db: Database, workdir: Path) -> None:
    import_json(db, write(workdir / "shop.csv", SHOP), "--source", "shop", "--map", "Total Spent=total_spent")
    out = workdir / "all.csv"
    run_patron(db, "export", "--format", "csv", "--output", str(out))
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3  # without the id column, the row with only a bad email identifies nobody
    header = list(rows[0])
    assert header[:3] == ["id", "email", "phone"] and "total_spent" in header
    assert any(row["identities"].startswith("email:") for row in rows)


def test_export_json_is_jsonl_and_refuses_csv(db: Database, workdir: Path) -> None:
    import_json(db, write(workdir / "shop.csv", SHOP), "--source", "shop", "--id-column", "Customer ID")
    machine = run_patron(db, "export", "--json").stdout
    assert machine == run_patron(db, "export", "--format", "jsonl").stdout
    assert len([json.loads(line) for line in machine.splitlines()]) == 4
    both = run_patron(db, "export", "--json", "--format", "csv", check=False)
    assert both.returncode == 2
    error = json.loads(both.stdout)["error"]
    assert error["details"]["field"] == "format" and "--format csv" in error["message"]


def start_server(db: Database, *args: str, log: Path) -> tuple[subprocess.Popen[str], dict]:
    """`patron serve --json` on any free port; returns the process and the line it printed."""
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "patron", "serve", "--port", "0", "--json", *args],
            env=db.env(),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    ready, _, _ = select.select([server.stdout], [], [], 60)
    if not ready:
        server.kill()
        raise AssertionError(f"patron serve printed nothing in 60 s:\n{log.read_text()}")
    line = server.stdout.readline()  # type: ignore[union-attr]
    assert line, log.read_text()
    return server, json.loads(line)


def stop_server(server: subprocess.Popen[str], log: Path) -> None:
    server.terminate()
    try:
        # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught: that is the exit status.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
    assert "Application shutdown complete" in log.read_text()


def test_serve_json_prints_one_line_saying_where_it_listens(db: Database, workdir: Path) -> None:
    log = workdir / "serve.log"
    server, started = start_server(db, log=log)
    try:
        assert set(started) == {"url", "worker", "database"}
        assert started["worker"] is True and started["database"] == db.name
        assert started["url"].startswith("http://127.0.0.1:") and not started["url"].endswith(":0")
        with urllib.request.urlopen(f"{started['url']}/healthz", timeout=10) as health:
            assert health.status == 200 and json.load(health)["database"] == db.name
    finally:
        stop_server(server, log)
    assert server.stdout is not None and server.stdout.read() == ""  # the access log goes to stderr
    assert "GET /healthz" in log.read_text()
    server, started = start_server(db, "--no-worker", log=log)
    try:
        assert started["worker"] is False
    finally:
        stop_server(server, log)


def test_user_password_resets_the_admin_login(db: Database) -> None:
    result = json.loads(run_patron(db, "user", "password", "admin@example.com", "--json").stdout)
    assert len(result["password"]) >= 12
    missing = run_patron(db, "user", "password", "nobody@example.com", check=False)
    assert missing.returncode == 2 and "no user" in missing.stderr


def test_demo_loads_three_apps_into_one_profile_per_person(db: Database, workdir: Path) -> None:
    result = json.loads(
        run_patron(db, "demo", "--people", "400", "--directory", str(workdir), "--json").stdout
    )
    imports = {Path(i["file"]).name: i for i in result["imports"]}
    assert set(imports) == {"shop_customers.csv", "crm_contacts.csv", "newsletter_subscribers.csv"}
    assert imports["crm_contacts.csv"]["encoding"] == "cp949"
    assert imports["newsletter_subscribers.csv"]["rejected"] > 0
    rows = sum(i["rows"] for i in result["imports"])
    # People in two or three apps become one profile each (plus anonymous web visitors).
    assert 400 <= result["stats"]["profiles"] < rows
    events = result["events"]
    assert events["accepted"] > 1000 and events["rejected"] > 0  # planted blocked ids refused
    assert result["stats"]["events_waiting"] == 0
    # Beyond the apps' events: the demo's recent activity, and segment and stage changes it caused.
    assert result["stats"]["events"] >= events["processed"] + result["segments"]["recent_events"]
    assert result["stats"]["accounts"] > 0
    # Customers whose last order was long before the demo's four weeks are stale contacts.
    assert json.loads(run_patron(db, "quality", "stale", "--json").stdout)["stale"] > 0
    before = people(db)
    again = json.loads(
        run_patron(db, "demo", "--people", "400", "--directory", str(workdir), "--json").stdout
    )
    # Loading it again ends with the same people, each with the same identities (trait values may
    # differ where dedupe merged two profiles: re-imported apps write over the survivors' values).
    assert all(i["created"] == 0 for i in again["imports"])
    assert again["dedupe"]["auto_merged"] == 0
    assert [(pid, ids) for pid, _, ids in people(db)] == [(pid, ids) for pid, _, ids in before]


def people(db: Database) -> list[tuple[str, dict, list]]:
    exported = [json.loads(line) for line in run_patron(db, "export").stdout.splitlines()]
    return [(p["id"], p["traits"], p["identities"]) for p in exported]
