"""Spreadsheet import through /admin/excelimport: upload, mapping, preview, job, progress."""
from __future__ import annotations

import io
import re
import time

import pytest
from openpyxl import Workbook

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from


@pytest.fixture(autouse=True)
def _upload_folder(app, tmp_path, monkeypatch):
    """Uploads go to a temporary folder, not the instance folder."""
    monkeypatch.setitem(app.config, "CRM_IMPORT_FOLDER", str(tmp_path / "imports"))
    yield tmp_path / "imports"


@pytest.fixture
def pipeline(app):
    from crm.sales.models.clients import LeadStatus, Pipeline

    with app.app_context():
        p = Pipeline(name="Direct", isdefault=True)
        p2 = Pipeline(name="Partners")
        db.session.add_all([p, p2])
        db.session.flush()
        db.session.add_all([LeadStatus(name="New", statusorder=0, pipeline=p.id),
                            LeadStatus(name="Qualified", statusorder=1, pipeline=p2.id)])
        db.session.commit()
        return p.id, p2.id


def _xlsx(rows) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


ROWS = [
    ["Full name", "E-mail", "Phone", "Company", "Value", "Status", "Notes to ignore"],
    ["Ana Pop", "ana@pop.ro", 40722111222, "Pop SRL", 1500.5, "Qualified", "x"],
    ["Bogdan Ene", "not-an-email", None, "Ene SA", None, None, "y"],
    [None, "fara.nume@x.ro", None, None, "abc", "Nope", None],
    ["Carmen Dinu", None, "0744 000 111", None, None, None, None],
]


def _post_file(client, content, filename):
    page = client.get("/admin/excelimport/")
    return client.post("/admin/excelimport/", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                    "file": (content, filename)},
                       content_type="multipart/form-data")


def _upload(client, content, filename):
    """Upload, then open the import's page: once the job has read the file it sends on to the mapping
    (a 302 whose Location is the mapping page); a refused upload is the upload's own answer."""
    r = _post_file(client, content, filename)
    if r.status_code != 302:
        return r
    assert re.search(r"/admin/excelimport/\d+$", r.headers["Location"])
    return client.get(r.headers["Location"])


def _leads(app):
    from crm.sales.models.clients import Lead

    with app.app_context():
        rows = db.session.query(Lead).order_by(Lead.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _mapping_form(html):
    data = {"csrf_token": csrf_from(html)}
    for m in re.finditer(r'<select name="(map_\d+)".*?</select>', html, re.S):
        sel = re.search(r'<option value="([^"]*)" selected>', m.group(0))
        data[m.group(1)] = sel.group(1) if sel else ""
    return data


def test_xlsx_upload_guesses_mapping_previews_errors_and_keeps_good_rows(app, admin_client, pipeline):
    from crm.core.models.records import ActivityLog
    from crm.sales.models.clients import LeadSource, LeadStatus

    r = _upload(admin_client, _xlsx(ROWS), "prospects.xlsx")
    assert r.status_code == 302
    map_url = r.headers["Location"]
    html = admin_client.get(map_url).get_data(as_text=True)
    form = _mapping_form(html)
    assert [form[f"map_{i}"] for i in range(7)] == ["name", "email", "phonenumber", "company", "lead_value",
                                                     "status", ""]
    # Per-cell errors in the preview, by row number and column name.
    assert 'data-error="E-mail: “not-an-email” is not a valid email address."' in html
    assert 'data-error="Full name: Name is required."' in html
    assert 'data-error="Value: “abc” is not an amount."' in html
    assert "no lead status is named “Nope”" in html
    r = admin_client.post(map_url, data={**form, "mode": "keep", "do": "import"})
    assert r.status_code == 302
    status_url = r.headers["Location"]
    data = admin_client.get(status_url + "/progress.json").get_json()
    assert (data["status"], data["total"], data["done"], data["imported"], data["percent"]) == ("done", 4, 4, 2, 100)
    assert {(e["row"], e["column"]) for e in data["errors"]} == {(3, "E-mail"), (4, "Full name"), (4, "Value"),
                                                                  (4, "Status")}
    page = admin_client.get(status_url).get_data(as_text=True)
    assert "Imported 2 lead(s); 2 row(s) skipped with 4 bad cell(s)." in page and "progress-bar" in page
    leads = _leads(app)
    assert [(lead.name, lead.email, lead.phonenumber) for lead in leads] == [
        ("Ana Pop", "ana@pop.ro", "40722111222"), ("Carmen Dinu", None, "0744 000 111")]
    with app.app_context():
        assert str(leads[0].lead_value) == "1500.50"
        assert db.session.get(LeadStatus, leads[0].status).name == "Qualified"
        assert leads[0].pipeline == pipeline[1]  # the status' own pipeline
        assert (db.session.get(LeadStatus, leads[1].status).name, leads[1].pipeline) == ("New", pipeline[0])
        assert {db.session.get(LeadSource, lead.source).name for lead in leads} == {"Excel import"}
        assert db.session.query(ActivityLog).filter_by(rel_type="leads_import").count() == 1
    # The mapping page of a finished import goes to its progress page; the job does not run twice.
    assert admin_client.get(map_url).status_code == 302
    from crm.capture.excel_import import run_import

    with app.app_context():
        assert "nothing to do" in run_import(data["id"])
    assert len(_leads(app)) == 2


def test_finished_imports_delete_their_upload(app, admin_client, pipeline, _upload_folder):
    r = _upload(admin_client, io.BytesIO(b"Name\nAna\n"), "a.csv")
    assert len(list(_upload_folder.iterdir())) == 1
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    admin_client.post(map_url, data={**form, "mode": "keep", "do": "import"})
    assert list(_upload_folder.iterdir()) == []


def test_refuse_mode_imports_nothing_when_a_row_is_bad(app, admin_client, pipeline):
    r = _upload(admin_client, _xlsx(ROWS), "prospects.xlsx")
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    r = admin_client.post(map_url, data={**form, "mode": "refuse", "do": "import"})
    data = admin_client.get(r.headers["Location"] + "/progress.json").get_json()
    assert data["status"] == "refused" and data["imported"] == 0 and data["error_count"] == 4
    assert "nothing was imported" in data["message"]
    assert _leads(app) == []


def test_csv_with_semicolons_and_a_source_column(app, admin_client, pipeline):
    from crm.sales.models.clients import LeadSource

    csv_bytes = "Nume;Email;Sursa\nIon Ionescu;ion@x.ro;Târg 2026\nDana;dana@x.ro;\n".encode()
    r = _upload(admin_client, io.BytesIO(csv_bytes), "leads.csv")
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    assert (form["map_0"], form["map_1"], form["map_2"]) == ("name", "email", "source")
    admin_client.post(map_url, data={**form, "mode": "refuse", "do": "import"})
    leads = _leads(app)
    with app.app_context():
        assert [(lead.name, db.session.get(LeadSource, lead.source).name) for lead in leads] == [
            ("Ion Ionescu", "Târg 2026"), ("Dana", "Excel import")]


@pytest.mark.parametrize("content, filename, message", [
    (None, None, "file: choose an .xlsx or .csv file"),
    (b"hello", "notes.txt", "is not an .xlsx or .csv file"),
    (b"", "nothing.csv", "file: the file is empty"),
])
def test_bad_uploads_are_400_naming_the_file(app, admin_client, content, filename, message):
    if content is None:
        page = admin_client.get("/admin/excelimport/")
        r = admin_client.post("/admin/excelimport/", data={"csrf_token": csrf_from(page.get_data(as_text=True))},
                              content_type="multipart/form-data")
    else:
        r = _upload(admin_client, io.BytesIO(content), filename)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True)
    from crm.capture.models import LeadImport

    with app.app_context():
        assert db.session.query(LeadImport).count() == 0


@pytest.mark.parametrize("content, filename, message", [
    (b"PK\x03\x04 broken", "broken.xlsx", "file: cannot read this file as .xlsx"),
    (b"Name,Email\n", "empty.csv", "file: the file has a header row but no data rows."),
])
def test_unreadable_files_fail_when_read_naming_the_file(app, admin_client, _upload_folder, content, filename,
                                                         message):
    """What only reading can tell is told by the reading job, on the import's page; the file is dropped."""
    r = _post_file(admin_client, io.BytesIO(content), filename)
    assert r.status_code == 302
    page = admin_client.get(r.headers["Location"])
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    data = admin_client.get(r.headers["Location"] + "/progress.json").get_json()
    assert data["status"] == "failed" and data["finished"] and "Nothing was imported" in data["message"]
    assert admin_client.get(r.headers["Location"] + "/map").status_code == 302  # no mapping for it
    assert list(_upload_folder.iterdir()) == []
    assert _leads(app) == []


def test_bad_mapping_is_422_and_nothing_queued(app, admin_client, pipeline):
    from crm.capture.models import LeadImport

    r = _upload(admin_client, _xlsx(ROWS), "prospects.xlsx")
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    r = admin_client.post(map_url, data={**form, "map_0": "", "mode": "keep", "do": "import"})
    assert r.status_code == 422
    assert "map: choose the column that holds the lead&#39;s Name" in r.get_data(as_text=True)
    r = admin_client.post(map_url, data={**form, "map_6": "email", "mode": "keep", "do": "import"})
    assert r.status_code == 422 and "map_6: Email is already mapped to another column." in r.get_data(as_text=True)
    r = admin_client.post(map_url, data={**form, "mode": "maybe", "do": "import"})
    assert r.status_code == 422 and "mode: choose" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(LeadImport).one().status == "uploaded"
    assert _leads(app) == []


def test_no_pipeline_fails_the_import_with_a_clear_message(app, admin_client):
    r = _upload(admin_client, io.BytesIO(b"Name\nAna\n"), "a.csv")
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    r = admin_client.post(map_url, data={**form, "mode": "keep", "do": "import"})
    data = admin_client.get(r.headers["Location"] + "/progress.json").get_json()
    assert data["status"] == "failed" and "No lead pipeline exists" in data["message"]
    assert _leads(app) == []


def test_ten_thousand_rows(app, admin_client, pipeline):
    lines = ["Name,Email,Company"] + [f"Lead {i},lead{i}@example.com,Company {i % 97}" for i in range(10_000)]
    lines[5001] = "Broken,broken-email,X"
    r = _upload(admin_client, io.BytesIO("\n".join(lines).encode()), "big.csv")
    map_url = r.headers["Location"]
    form = _mapping_form(admin_client.get(map_url).get_data(as_text=True))
    started = time.monotonic()
    r = admin_client.post(map_url, data={**form, "mode": "keep", "do": "import"})
    elapsed = time.monotonic() - started
    data = admin_client.get(r.headers["Location"] + "/progress.json").get_json()
    assert (data["status"], data["total"], data["imported"]) == ("done", 10_000, 9_999)
    assert data["errors"] == [{"row": 5002, "column": "Email", "message": "“broken-email” is not a valid email address."}]
    assert elapsed < 30, elapsed
    from crm.sales.models.clients import Lead

    with app.app_context():
        assert db.session.query(Lead).count() == 9_999


def test_import_screen_needs_permission(app):
    from tests.conftest import login, make_staff

    with app.app_context():
        make_staff("viewer@test.example", "Warehouse")
    client = app.test_client()
    login(client, "viewer@test.example", "pass-1234")
    assert client.get("/admin/excelimport/").status_code == 403


def _staff_client(app, email, role="Sales Agent"):
    from tests.conftest import login, make_staff

    with app.app_context():
        make_staff(email, role)
    client = app.test_client()
    login(client, email, "pass-1234")
    return client


def test_only_the_uploader_and_admins_open_an_import(app, admin_client, pipeline):
    owner = _staff_client(app, "owner@test.example")
    other = _staff_client(app, "other@test.example")
    r = _upload(owner, _xlsx(ROWS), "owners-prospects.xlsx")
    map_url = r.headers["Location"]
    base = map_url.removesuffix("/map")
    assert owner.get(map_url).status_code == 200
    # Another salesperson with the same import screen: none of its pages exist for them.
    for url in (map_url, base, base + "/progress.json"):
        assert other.get(url).status_code == 404, url
    form = _mapping_form(owner.get(map_url).get_data(as_text=True))
    other_page = other.get("/admin/excelimport/")
    assert "owners-prospects.xlsx" not in other_page.get_data(as_text=True)
    r = other.post(map_url, data={**form, "csrf_token": csrf_from(other_page.get_data(as_text=True)),
                                  "mode": "keep", "do": "import"})
    assert r.status_code == 404 and _leads(app) == []
    # The uploader sees it in their list; an admin opens it too.
    assert "owners-prospects.xlsx" in owner.get("/admin/excelimport/").get_data(as_text=True)
    assert admin_client.get(map_url).status_code == 200
    assert admin_client.get(base + "/progress.json").get_json()["file"] == "owners-prospects.xlsx"
    # Nor is there a generic door to the imports' contents.
    assert app.test_client().get("/api/v1/leads_import",
                                 headers=api_token(app.test_client())).status_code == 404


def test_a_large_spreadsheet_is_read_by_the_job_with_its_progress_not_in_the_upload(app, admin_client, pipeline,
                                                                                  monkeypatch):
    from sqlalchemy import text

    from crm.capture import excel_import
    from crm.core.jobs import outbox

    queued = []  # what a worker would be handed, after the upload's commit
    monkeypatch.setattr(outbox, "run_inline", lambda func, args, kwargs: queued.append((func, args)))
    real_read_rows = excel_import.read_rows

    def not_in_the_request(path):
        raise AssertionError("the upload request read the spreadsheet")

    monkeypatch.setattr(excel_import, "read_rows", not_in_the_request)
    lines = ["Name,Email"] + [f"Lead {i},lead{i}@example.com" for i in range(3_000)]
    r = _post_file(admin_client, io.BytesIO("\n".join(lines).encode()), "big.csv")
    assert r.status_code == 302
    status_url = r.headers["Location"]
    # Until the worker has read it: the progress page, not the mapping.
    page = admin_client.get(status_url).get_data(as_text=True)
    assert "Reading the file" in page and "progress-bar" in page
    assert admin_client.get(status_url + "/map").status_code == 302
    data = admin_client.get(status_url + "/progress.json").get_json()
    assert (data["status"], data["percent"], data["finished"]) == ("reading", 0, False)
    assert [func.__name__ for func, _args in queued] == ["read_upload"]

    # The worker reads it; its progress is committed as it goes (seen from another connection).
    seen = []

    def watching(path):
        for i, row in enumerate(real_read_rows(path)):
            if i == 2001:
                with db.engine.connect() as conn:
                    seen.append(tuple(conn.execute(text("SELECT status, done, total FROM tblleads_import")).one()))
            yield row

    monkeypatch.setattr(excel_import, "read_rows", watching)
    func, args = queued.pop()
    with app.app_context():
        func(*args)
    assert seen == [("reading", 2000, 3000)]
    r = admin_client.get(status_url)
    assert r.status_code == 302 and r.headers["Location"].endswith("/map")  # read: on to the mapping
    html = admin_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "3000" in html and "Lead 0" in html and "Lead 9" in html and "Lead 10" not in html
