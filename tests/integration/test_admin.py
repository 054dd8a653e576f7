"""The admin over HTTP: login, CSRF, contacts, profile page, CSV upload as a job."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from patron import fields, jobs, profiles
from patron.storage import transaction
from patron.web.app import create_app
from patron.worker import JobContext, Worker
from tests.conftest import Database
from tests.integration.calls import api_get, post_profile

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient, db: Database, password: str | None = None) -> str:
    form = client.get("/admin/login")
    response = client.post(
        "/admin/login",
        data={
            "email": "ADMIN@example.com",
            "password": password or db.init.admin_password,
            "csrf_token": csrf_of(form.text),
            "next": "/admin/contacts",
        },
        follow_redirects=False,
    )
    return response.headers["location"]


def test_pages_need_a_login_and_come_back_after_it(app_client: TestClient, db: Database) -> None:
    response = app_client.get("/admin/contacts?q=kim", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/contacts%3Fq%3Dkim"
    assert log_in(app_client, db) == "/admin/contacts"
    cookie = app_client.cookies.jar._cookies  # type: ignore[attr-defined]
    assert cookie, "a session cookie is set"
    assert app_client.get("/admin/").status_code == 200


def test_a_wrong_password_shows_an_error_and_no_session(app_client: TestClient, db: Database) -> None:
    location = log_in(app_client, db, password="not-the-password")
    assert location.startswith("/admin/login?error=credentials")
    page = app_client.get(location)
    assert "Wrong email or password" in page.text
    assert app_client.get("/admin/", follow_redirects=False).status_code == 303


def test_a_login_form_without_its_token_is_refused(app_client: TestClient, db: Database) -> None:
    response = app_client.post(
        "/admin/login",
        data={"email": "admin@example.com", "password": db.init.admin_password, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert "error=expired" in response.headers["location"]


def test_the_session_cookie_is_http_only_and_same_site(app_client: TestClient, db: Database) -> None:
    form = app_client.get("/admin/login")
    response = app_client.post(
        "/admin/login",
        data={
            "email": "admin@example.com",
            "password": db.init.admin_password,
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "patron_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_every_form_needs_the_sessions_csrf_token(app_client: TestClient, db: Database) -> None:
    log_in(app_client, db)
    forged = app_client.post("/admin/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code == 403 and "Form expired" in forged.text
    missing = app_client.post(
        "/admin/imports", data={"source": "x"}, files={"file": ("a.csv", b"Email\na@b.co\n")}
    )
    assert missing.status_code == 403
    token = csrf_of(app_client.get("/admin/").text)
    out = app_client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert app_client.get("/admin/", follow_redirects=False).status_code == 303


def test_contacts_are_searchable_and_a_profile_shows_where_each_trait_came_from(
    app_client: TestClient, db: Database
) -> None:
    person = post_profile(
        app_client,
        db,
        {
            "email": "minjun@example.com",
            "first_name": "민준",
            "last_name": "김",
            "company": "한빛소프트",
            "lists": ["weekly", "offers"],
        },
        source="crm",
    )
    post_profile(app_client, db, {"email": "emily@example.com", "first_name": "Emily"}, source="shop")
    log_in(app_client, db)
    found = app_client.get("/admin/contacts", params={"q": "김민준"})
    assert "minjun@example.com" in found.text and "emily@example.com" not in found.text
    page = app_client.get(f"/admin/contacts/{person['id']}")
    assert page.status_code == 200
    assert "한빛소프트" in page.text and "crm" in page.text and "email" in page.text
    assert "<h1>김민준</h1>" in page.text  # family name first, as Korean is written
    assert "<title>김민준 · Patron</title>" in page.text
    assert page.text.count("<h2>Timeline</h2>") == 1
    assert "weekly, offers" in page.text
    assert app_client.get("/admin/contacts/01ZZZZZZZZZZZZZZZZZZZZZZZZ").status_code == 404


def test_values_are_escaped_and_pages_forbid_inline_scripts(app_client: TestClient, db: Database) -> None:
    person = post_profile(app_client, db, {"email": "x@example.com", "company": "<script>alert(1)</script>"})
    log_in(app_client, db)
    page = app_client.get(f"/admin/contacts/{person['id']}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' covers it
    assert page.headers["x-frame-options"] == "DENY"


def test_an_uploaded_csv_is_imported_as_a_job_with_its_summary_and_rejects(
    app_client: TestClient, db: Database
) -> None:
    log_in(app_client, db)
    token = csrf_of(app_client.get("/admin/imports").text)
    content = "이메일,이름,Favourite Colour\nkim@example.com,민준,blue\nbroken@@x,없음,red\n".encode("cp949")
    response = app_client.post(
        "/admin/imports",
        data={"csrf_token": token, "source": "fair", "mapping": "Favourite Colour=favourite_colour"},
        files={"file": ("visitors.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    assert "queued" in app_client.get(job_url).text
    Worker(db.engine, db.settings).run_once()
    progress = app_client.get(job_url + ".json").json()
    assert (progress["status"], progress["percent"]) == ("succeeded", 100)
    page = app_client.get(job_url)
    assert "Download rejects file" in page.text
    rejects_url = re.search(r'href="(/admin/files/[^"]+)"', page.text).group(1)
    rejects = app_client.get(rejects_url)
    assert rejects.headers["content-disposition"].startswith("attachment")
    assert "broken@@x" in rejects.content.decode("utf-8-sig")
    assert (
        app_client.get("/admin/contacts", params={"q": "kim@example.com"}).text.count("kim@example.com") >= 1
    )


def test_an_upload_with_a_bad_mapping_is_refused_on_the_page(app_client: TestClient, db: Database) -> None:
    log_in(app_client, db)
    token = csrf_of(app_client.get("/admin/imports").text)
    response = app_client.post(
        "/admin/imports",
        data={"csrf_token": token, "source": "fair", "mapping": "Mobile=phone"},
        files={"file": ("visitors.csv", b"Email\na@b.co\n", "text/csv")},
    )
    assert response.status_code == 422
    assert "&#39;Mobile&#39; is not in the file" in response.text


def test_dashboard_shows_counts_and_a_chart(app_client: TestClient, db: Database) -> None:
    post_profile(app_client, db, {"email": "a@example.com", "phone": "+14152345678"})
    log_in(app_client, db)
    page = app_client.get("/admin/").text
    assert "<svg" in page and "Identities by kind" in page


def test_the_data_dictionary_lists_standard_and_custom_fields(app_client: TestClient, db: Database) -> None:
    post_profile(app_client, db, {"email": "a@example.com", "plan": "pro"}, source="billing")
    log_in(app_client, db)
    page = app_client.get("/admin/fields").text
    assert "birthday" in page and "plan" in page and "billing" in page


def test_quality_pages_show_flags_stale_contacts_and_apply_rules(
    app_client: TestClient, db: Database
) -> None:
    role = post_profile(app_client, db, {"email": "info@acme.com", "phone": "+1 415 555 2671"})
    post_profile(app_client, db, {"email": "kim@naver.com", "vertical": "Fintech"})
    log_in(app_client, db)
    contact = app_client.get(f"/admin/contacts/{role['id']}").text
    assert '<span class="pill" title="quality flag: kept, not used to match">role</span>' in contact
    quality = app_client.get("/admin/quality")
    assert quality.status_code == 200 and 'data-testid="score"' in quality.text
    assert "role addresses" in quality.text and "<meter" in quality.text
    refreshed = app_client.post(
        "/admin/quality", data={"csrf_token": csrf_of(quality.text)}, follow_redirects=False
    )
    assert refreshed.status_code == 303
    assert app_client.get(
        "/api/v1/quality/snapshots", headers={"Authorization": f"Bearer {db.admin_key}"}
    ).json()["data"]
    assert "No stale contacts." in app_client.get("/admin/quality/stale").text
    assert "info@acme.com" in app_client.get("/admin/quality/profiling").text
    # A rule made after the data: nothing changes until it is previewed and applied.
    add_rule = {"kind": "field_alias", "match": "vertical", "target": "segment"}
    app_client.post("/api/v1/standards", json=add_rule, headers={"Authorization": f"Bearer {db.admin_key}"})
    rules = app_client.get("/admin/quality/standards")
    assert "Preview what re-applying" in rules.text and "profiles would change" not in rules.text
    preview = app_client.get("/admin/quality/standards", params={"preview": 1}).text
    assert "<strong>1</strong> profiles would change" in preview and "field vertical -&gt; segment" in preview
    applied = app_client.post("/admin/quality/standards", data={"csrf_token": csrf_of(preview)})
    assert "<strong>1</strong> profiles changed" in applied.text


def trait_row(html: str, name: str) -> str:
    """The profile page's row for one trait."""
    match = re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', html, re.S)
    assert match, f"no row for {name}"
    return match.group(1)


def test_the_profile_page_shows_each_traits_source_and_when_it_was_set(
    app_client: TestClient, db: Database
) -> None:
    writes = [
        ("crm", "2024-03-05T09:30:12.345678Z", {"company": "Hanbit Soft"}),
        ("shop", "2025-11-20T17:45:00.000001Z", {"plan": "pro"}),
    ]
    with transaction(db.engine) as conn:
        for source, stamp, traits in writes:
            record = profiles.prepare_record(
                traits, [("email", "kim@example.com")], source=source,
                field_types=fields.field_types(conn), default_region="US",
            )  # fmt: skip
            person = profiles.upsert_records(conn, [record], stamp=stamp).records[0].profile_id
    provenance = api_get(app_client, db, f"/api/v1/profiles/{person}")["provenance"]
    assert provenance["company"] == {"source": "crm", "at": "2024-03-05T09:30:12.345678Z"}
    log_in(app_client, db)
    page = app_client.get(f"/admin/contacts/{person}").text
    assert "<td>crm</td>" in trait_row(page, "company") and "2024-03-05 09:30" in trait_row(page, "company")
    assert "<td>shop</td>" in trait_row(page, "plan") and "2025-11-20 17:45" in trait_row(page, "plan")


def test_a_failed_jobs_error_is_shown_on_its_page(app_client: TestClient, db: Database) -> None:
    def sync(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise RuntimeError("the partner API answered 503 <Service Unavailable>")

    with transaction(db.engine) as conn:
        job_id = jobs.enqueue(conn, "partner.sync", {}, max_attempts=1)
    Worker(db.engine, db.settings, handlers={"partner.sync": sync}).run_once()
    log_in(app_client, db)
    page = app_client.get(f"/admin/jobs/{job_id}")
    assert page.status_code == 200
    assert 'id="job-status">failed</strong>' in page.text
    assert "the partner API answered 503 &lt;Service Unavailable&gt;" in page.text


def test_a_csv_over_the_upload_limit_shows_the_upload_page_with_both_sizes(db: Database) -> None:
    settings = db.settings.model_copy(update={"max_upload_bytes": 1_000_000})
    app = create_app(settings, engine=db.engine)
    content = b"Email\n" + b"someone@example.com\n" * 75_000  # 1.5 MB
    with TestClient(app) as stranger:
        anonymous = stranger.post(
            "/admin/imports", data={"source": "fair"}, files={"file": ("everyone.csv", content)},
            follow_redirects=False,
        )  # fmt: skip
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/admin/login")
    with TestClient(app) as client:
        log_in(client, db)
        form = client.get("/admin/imports")
        assert "at most 1 MB" in form.text
        response = client.post(
            "/admin/imports",
            data={"csrf_token": csrf_of(form.text), "source": "fair"},
            files={"file": ("everyone.csv", content, "text/csv")},
        )
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        sizes = "the file is 1.5 MB; the most this server accepts is 1 MB (PATRON_MAX_UPLOAD_BYTES)"
        assert sizes in response.text
        assert 'action="/admin/imports"' in response.text, "the upload form, to try again"
        with transaction(db.engine, write=False) as conn:
            assert [j for j in jobs.list_jobs(conn) if j.kind == "import.csv"] == []
