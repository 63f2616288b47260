"""Contracts: created from an accepted proposal or on their own; sent for signature (email with the
PDF and the portal link); signed by the client in the portal with a drawn signature or marked as
signed on paper by staff; the PDF shows the signature; the expiry reminder job, once per contract."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from crm.core.extensions import db
from tests.conftest import api_token, make_staff
from tests.core.test_pdf_documents import pdf_text
from tests.sales.test_portal import png_data_url
from tests.sales.test_sales_support import api, base_data, get, make_client, make_proposal, press, set_option

TODAY = date.today()
SIGNER = {"firstname": "Ion", "lastname": "Popescu", "email": "ion@nordic.ro"}


@pytest.fixture(autouse=True)
def _env(app, monkeypatch, tmp_path):
    """Signatures and outbox attachments under a temporary instance folder; no SMTP."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setitem(app.config, "SMTP_URL", None)


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _contract(app, ids, **kw):
    from crm.sales.models.documents import Contract

    with app.app_context():
        fields = dict(subject="Maintenance SLA 2026", client=ids["client"], content="1. The provider maintains\n"
                      "2. The client pays monthly", contract_value=Decimal("12000.00"), datestart=TODAY,
                      dateend=TODAY + timedelta(days=365), addedfrom=ids["agent"])
        fields.update(kw)
        c = Contract(**fields)
        db.session.add(c)
        db.session.commit()
        return c.id


def _outbox(app, **filters):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        rows = db.session.query(EmailOutbox).filter_by(**filters).order_by(EmailOutbox.id).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def _portal_url(app, cid):
    from crm.sales.models.documents import Contract

    c = get(app, Contract, cid)
    return f"/portal/contract/{c.id}/{c.hash}"


def _sign(client, url, **overrides):
    from tests.conftest import csrf_from

    page = client.get(url)
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), **SIGNER, "signature": png_data_url(), **overrides}
    return client.post(url + "/sign", data=data)


def _images_in(pdf: bytes) -> int:
    """How many images a PDF holds (pdfimages, from poppler-utils like pdftotext)."""
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages is not installed (apt-get install poppler-utils)")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, check=True, text=True).stdout
    rows = [line.split() for line in out.strip().splitlines()[2:]]  # after two header lines
    return sum(1 for r in rows if r[2] == "image")  # not the "smask" rows (transparency)


def _contract_pdf(admin_client, cid) -> str:
    resp = admin_client.get(f"/admin/documents/contract/{cid}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    return pdf_text(resp.data)


# --- from a proposal, sent, signed in the portal ------------------------------------------------

def test_accepted_proposal_to_contract_sent_and_signed_in_the_portal(app, admin_client, ids):
    from crm.core.models.records import ActivityLog
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Contract, Proposal

    with app.app_context():
        pid = make_proposal(ids, db.session.get(Client, ids["client"]), status=3).id
    resp = press(admin_client, "proposals", "create_contract", pid)
    assert "created for Nordic Trade SRL" in resp.get_data(as_text=True)
    with app.app_context():
        c = db.session.query(Contract).one()
        cid = c.id
        assert c.proposal_id == pid and c.signed is False
        assert c.contract_value == db.session.get(Proposal, pid).total

    details = admin_client.get(f"/admin/contracts/details/?id={cid}").get_data(as_text=True)
    assert f'href="/admin/documents/contract/{cid}.pdf"' in details and "send_for_signature" in details
    # the grid's button: an email with the PDF and the portal link, to the client's primary contact
    resp = press(admin_client, "contracts", "send_for_signature", cid)
    assert "Queued for buyer@nordic.ro" in resp.get_data(as_text=True)
    (mail,) = _outbox(app, rel_type="contract", rel_id=cid)
    url = _portal_url(app, cid)
    assert mail.to_email == "buyer@nordic.ro" and url in mail.body_html and "Laptops for the Brasov office" in mail.subject
    (att,) = mail.attachment_list
    assert att["filename"] == f"contract-{cid}.pdf"
    assert "Laptops for the Brasov office" in pdf_text((Path(app.instance_path) / att["path"]).read_bytes())

    # the client reads it and signs: name, email and a drawn signature
    client = app.test_client()
    page = client.get(url).get_data(as_text=True)
    assert 'data-testid="signature-pad"' in page and "Awaiting signature" in page
    resp = _sign(client, url)
    assert resp.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "you signed the contract" in page and 'data-testid="sign"' not in page
    assert "Signed by Ion Popescu (ion@nordic.ro)" in page
    assert f'src="{url}/signature.png"' in page
    assert client.get(f"{url}/signature.png").data.startswith(b"\x89PNG")
    c = get(app, Contract, cid)
    assert (c.signed, c.marked_as_signed, c.acceptance_firstname, c.acceptance_lastname, c.acceptance_email) == \
        (True, False, "Ion", "Popescu", "ion@nordic.ro")
    assert c.acceptance_ip and (Path(app.instance_path) / "signatures" / c.signature).read_bytes().startswith(b"\x89PNG")
    # logged, and the staff member who created it is told (here the admin who pressed the button)
    with app.app_context():
        logs = [a.description for a in db.session.query(ActivityLog).filter_by(rel_type="contracts", rel_id=cid)]
    assert any(d.startswith("Ion Popescu signed contract") and "from the portal" in d for d in logs), logs
    (told,) = _outbox(app, template="staff-notification")
    assert told.to_email == "admin@test.example"
    assert told.subject == "Ion Popescu signed contract Laptops for the Brasov office"

    # the PDF now shows who signed, when, and the signature image
    text = _contract_pdf(admin_client, cid)
    assert f"Signed by Ion Popescu (ion@nordic.ro) on {TODAY:%Y-%m-%d}" in " ".join(text.split())
    assert _images_in(admin_client.get(f"/admin/documents/contract/{cid}.pdf").data) == 1  # the signature

    # signing twice, or sending a signed contract, is refused with the reason
    # the form is gone; post straight to it
    resp = client.post(url + "/sign", data={**SIGNER, "signature": png_data_url(),
                                            "csrf_token": _any_csrf(client, url)})
    assert resp.status_code == 409 and "already signed by Ion Popescu" in resp.get_data(as_text=True)
    resp = api(app.test_client(), api_token(app.test_client()), "contracts", cid, "send_for_signature")
    assert resp.status_code == 409 and "already signed" in resp.get_json()["error"]
    assert len(_outbox(app, template="send-contract", rel_id=cid)) == 1


def _any_csrf(client, url):  # noqa: ARG001
    """A CSRF token of this client's session (the contract page has no form once signed)."""
    from tests.conftest import csrf_from

    return csrf_from(client.get("/login").get_data(as_text=True))


def test_portal_refuses_an_expired_contract_bad_forms_and_wrong_links(app, ids):
    from crm.sales.models.documents import Contract

    cid = _contract(app, ids, hash="a" * 32, datestart=TODAY - timedelta(days=400), dateend=TODAY - timedelta(days=1))
    client = app.test_client()
    url = f"/portal/contract/{cid}/{'a' * 32}"
    assert client.get(f"/portal/contract/{cid}/{'b' * 32}").status_code == 404
    assert client.get(f"/portal/contract/{cid + 1}/{'a' * 32}").status_code == 404
    assert client.get(url + "/signature.png").status_code == 404  # nothing signed yet
    page = client.get(url).get_data(as_text=True)
    assert f"This contract expired on {TODAY - timedelta(days=1):%d.%m.%Y}" in page and 'data-testid="sign"' not in page
    resp = client.post(url + "/sign", data={**SIGNER, "signature": png_data_url(), "csrf_token": _any_csrf(client, url)})
    assert resp.status_code == 409 and "expired on" in resp.get_data(as_text=True)
    assert get(app, Contract, cid).signed is False

    with app.app_context():
        c = db.session.get(Contract, cid)
        c.dateend = TODAY + timedelta(days=30)
        db.session.commit()
    # the signature and the email are checked before anything is written
    resp = _sign(client, url, signature=png_data_url(blank=True), email="not-an-email")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "draw your signature" in body and "enter a valid address" in body
    assert get(app, Contract, cid).signed is False
    assert not list(Path(app.instance_path).glob("signatures/*"))

    # hidden from the client: the link shows nothing
    with app.app_context():
        db.session.get(Contract, cid).not_visible_to_client = True
        db.session.commit()
    assert client.get(url).status_code == 404


# --- standalone, through the API; signed on paper --------------------------------------------

def test_standalone_contract_api_send_refusals_and_mark_signed(app, admin_client, ids):
    from crm.sales.models.clients import Contact
    from crm.sales.models.documents import Contract, ContractStatus, ContractType

    with app.app_context():
        t, s = ContractType(name="SLA"), ContractStatus(name="Active")
        db.session.add_all([t, s])
        db.session.commit()
        type_id, status_id = t.id, s.id
    client = app.test_client()
    h = api_token(client)
    r = client.post("/api/v1/contracts", headers=h, json={
        "subject": "Support 24/7", "client": ids["client"], "contract_type": type_id, "status": status_id,
        "contract_value": "4800.50", "datestart": str(TODAY - timedelta(days=10)),
        "dateend": str(TODAY - timedelta(days=1)), "content": "Response time: 4 hours"})
    assert r.status_code == 201, r.get_json()
    cid = r.get_json()["id"]

    # an ended contract is not sent for signature
    r = api(client, h, "contracts", cid, "send_for_signature")
    assert r.status_code == 409 and f"ended on {TODAY - timedelta(days=1):%Y-%m-%d}" in r.get_json()["error"]
    r = client.patch(f"/api/v1/contracts/{cid}", headers=h, json={"dateend": str(TODAY + timedelta(days=355))})
    assert r.status_code == 200, r.get_json()
    # nobody to send it to
    with app.app_context():
        db.session.query(Contact).update({"is_primary": False})
        db.session.commit()
    r = api(client, h, "contracts", cid, "send_for_signature")
    assert r.status_code == 409 and "has no primary contact with an email" in r.get_json()["error"]
    with app.app_context():
        db.session.query(Contact).update({"is_primary": True})
        db.session.commit()
    r = api(client, h, "contracts", cid, "send_for_signature")
    assert r.status_code == 200 and "buyer@nordic.ro" in r.get_json()["message"]

    # signed on paper: who and when; a date in the future and a missing name are refused by field
    r = api(client, h, "contracts", cid, "mark_signed", signer="Maria Ionescu",
            signed_on=str(TODAY + timedelta(days=1)))
    assert r.status_code == 422 and r.get_json()["field"] == "signed_on" and "in the future" in r.get_json()["error"]
    r = api(client, h, "contracts", cid, "mark_signed", signer=" ", signed_on=str(TODAY))
    assert r.status_code == 422 and r.get_json()["field"] == "signer"
    assert get(app, Contract, cid).signed is False
    r = api(client, h, "contracts", cid, "mark_signed", signer="Maria Ionescu", signed_on=str(TODAY - timedelta(days=2)))
    assert r.status_code == 200 and "on paper by Maria Ionescu" in r.get_json()["message"]
    c = get(app, Contract, cid)
    assert (c.signed, c.marked_as_signed, c.acceptance_firstname, c.acceptance_lastname, c.acceptance_date.date()) == \
        (True, True, "Maria", "Ionescu", TODAY - timedelta(days=2))
    r = api(client, h, "contracts", cid, "mark_signed", signer="Someone", signed_on=str(TODAY))
    assert r.status_code == 409 and "already signed by Maria Ionescu" in r.get_json()["error"]

    text = " ".join(_contract_pdf(admin_client, cid).split())
    for shown in ("Support 24/7", "SLA", "4,800.50 RON", "Response time: 4 hours",
                  f"End date: {TODAY + timedelta(days=355):%Y-%m-%d}",
                  f"Signed by Maria Ionescu on {TODAY - timedelta(days=2):%Y-%m-%d}, on paper"):
        assert shown in text, shown


def test_contract_events_are_announced(app, ids):
    from crm.core import events
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Contract

    seen = []
    events.subscribe(lambda name, obj, actor, data: seen.append(name) if name.startswith("contract.") else None)
    cid = _contract(app, ids)
    with app.app_context():
        admin = db.session.query(Staff).filter_by(admin=True).first()
        run(Contract, cid, "send_for_signature", admin)
        run(Contract, cid, "mark_signed", admin, {"signer": "Ana Pop", "signed_on": str(TODAY)})
    assert seen == ["contract.created", "contract.sent", "contract.signed"]


def test_types_and_statuses_are_edited_in_the_admin(app, admin_client):
    from crm.sales.models.documents import ContractStatus, ContractType
    from tests.conftest import csrf_from

    for url, data, model in (("/admin/contracts/types/", {"name": "Framework"}, ContractType),
                             ("/admin/contracts/statuses/", {"name": "Terminated", "color": "#E53935",
                                                             "statusorder": "4"}, ContractStatus)):
        form = admin_client.get(url + "new/").get_data(as_text=True)
        resp = admin_client.post(url + "new/", data={"csrf_token": csrf_from(form), **data})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
        with app.app_context():
            assert db.session.query(model).filter_by(name=data["name"]).count() == 1


# --- the expiry reminder -------------------------------------------------------------------

def test_expiry_reminder_once_per_contract_to_owner_and_optionally_client(app, ids):
    from crm.sales.jobs.contract_jobs import send_contract_expiry_reminders
    from crm.sales.models.documents import Contract

    today = date(2026, 3, 10)
    with app.app_context():
        owner = make_staff("owner@test.example", "Sales Agent")
        owner_id = owner.staffid
    soon = _contract(app, ids, subject="Ends soon", dateend=date(2026, 3, 13), addedfrom=owner_id)
    edge = _contract(app, ids, subject="Ends on the horizon", dateend=date(2026, 3, 14), addedfrom=owner_id)
    later = _contract(app, ids, subject="Ends later", dateend=date(2026, 3, 20), addedfrom=owner_id)
    _contract(app, ids, subject="Already ended", dateend=date(2026, 3, 9), addedfrom=owner_id)
    _contract(app, ids, subject="In the trash", dateend=date(2026, 3, 12), addedfrom=owner_id, trash=True)

    with app.app_context():
        assert send_contract_expiry_reminders(today) == "2 contract(s) reminded, 2 email(s) queued"
        assert send_contract_expiry_reminders(today) == "0 contract(s) reminded, 0 email(s) queued"
    mails = _outbox(app, template="contract-expiration-to-staff")
    assert sorted(m.rel_id for m in mails) == [soon, edge] and {m.to_email for m in mails} == {"owner@test.example"}
    assert "Ends soon ends on 2026-03-13" in [m.subject for m in mails if m.rel_id == soon][0]
    assert get(app, Contract, soon).isexpirynotified and not get(app, Contract, later).isexpirynotified

    # more days of notice, and the client told too: the later one now; extending a reminded one re-arms it
    set_option(app, "contract_expiration_before", "10")
    set_option(app, "contract_expiry_notify_client", "1")
    with app.app_context():
        db.session.get(Contract, soon).dateend = date(2026, 3, 18)
        db.session.commit()
    assert get(app, Contract, soon).isexpirynotified is False
    with app.app_context():
        assert send_contract_expiry_reminders(today) == "2 contract(s) reminded, 4 email(s) queued"
        assert send_contract_expiry_reminders(today) == "0 contract(s) reminded, 0 email(s) queued"
    client_mails = _outbox(app, template="contract-expiration")
    assert sorted(m.rel_id for m in client_mails) == [soon, later]
    assert {m.to_email for m in client_mails} == {"buyer@nordic.ro"}


def test_expiry_job_is_periodic_and_runs_from_the_cli(app, ids):
    from crm.jobs.periodic import PERIODIC

    assert "send_contract_expiry_reminders" in PERIODIC
    cid = _contract(app, ids, dateend=TODAY + timedelta(days=2))
    result = app.test_cli_runner().invoke(args=["crm", "cron", "send_contract_expiry_reminders"])
    assert result.exit_code == 0, result.output
    assert [m.rel_id for m in _outbox(app, template="contract-expiration-to-staff")] == [cid]
