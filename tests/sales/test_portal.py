"""The client portal (/portal/<kind>/<id>/<hash>): no staff login; view, PDF, accept with a drawn
signature, decline, comment; staff notified when a client opens or comments on a proposal."""
from __future__ import annotations

import base64
import io
import re
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest

from crm.core.extensions import db
from tests.conftest import csrf_from, make_staff
from tests.core.test_pdf_documents import build_sales_documents
from tests.e2e.test_e2e_browser import live_url, page  # noqa: F401  (browser fixtures)

TODAY = date.today()


@pytest.fixture(autouse=True)
def _portal_env(app, monkeypatch, tmp_path):
    """Signatures and outbox attachments under a temporary instance folder; no SMTP."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.setitem(app.config, "SMTP_URL", None)


@pytest.fixture
def docs(app):
    """A Sent proposal, a Sent sales order and an unpaid invoice (1000 of 2681.70 paid), with links."""
    from crm.sales.models.documents import Estimate, Invoice, Proposal

    with app.app_context():
        agent = make_staff("agent@test.example", "Sales Agent")
        ids = build_sales_documents(assigned=agent.staffid)
        p, e, i = (db.session.get(Proposal, ids["proposal"]), db.session.get(Estimate, ids["estimate"]),
                   db.session.get(Invoice, ids["invoice"]))
        p.status, p.open_till, p.hash = 4, TODAY + timedelta(days=7), secrets.token_hex(16)
        e.status, e.expirydate, e.hash, e.sale_agent = 2, TODAY + timedelta(days=10), secrets.token_hex(16), \
            agent.staffid
        i.hash = secrets.token_hex(16)
        db.session.commit()
        ids.update(agent=agent.staffid, urls={"proposal": f"/portal/proposal/{p.id}/{p.hash}",
                                              "estimate": f"/portal/estimate/{e.id}/{e.hash}",
                                              "invoice": f"/portal/invoice/{i.id}/{i.hash}"})
        return ids


def png_data_url(size=(120, 40), blank=False) -> str:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", size, (0, 0, 0, 0))
    if not blank:
        ImageDraw.Draw(img).line([(5, 30), (40, 5), (80, 35), (115, 10)], fill=(0, 0, 0, 255), width=3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def fetch(app, model_name, pk):
    from crm import models

    with app.app_context():
        obj = db.session.get(getattr(models, model_name), pk)
        db.session.expunge(obj)
        return obj


def outbox(app, **filters):
    from crm.core.models.messaging import EmailOutbox

    with app.app_context():
        rows = db.session.query(EmailOutbox).filter_by(**filters).all()
        for r in rows:
            db.session.expunge(r)
        return rows


def set_doc(app, model_name, pk, **values):
    from crm import models

    with app.app_context():
        obj = db.session.get(getattr(models, model_name), pk)
        for k, v in values.items():
            setattr(obj, k, v)
        db.session.commit()


def post_form(client, url, data, token=None):
    """Open the page (as a client's browser does), then post one of its forms with the page's CSRF token."""
    page_html = opened(client, url)
    token = token or csrf_from(page_html)
    return client.post(url.rstrip("/") + "/" + data.pop("_action"), data={"csrf_token": token, **data})


SIGNER = {"firstname": "Ion", "lastname": "Popescu", "email": "ion@popescu.ro"}


# --- access --------------------------------------------------------------------------------------

def test_wrong_hash_unknown_id_and_drafts_are_404(app, client, docs):
    from crm.sales.models.documents import Proposal

    url = docs["urls"]["proposal"]
    assert client.get(url[:-1] + ("0" if url[-1] != "0" else "1")).status_code == 404
    assert client.get(f"/portal/proposal/99999/{url.rsplit('/', 1)[1]}").status_code == 404
    assert client.get(url.replace("/proposal/", "/contract/")).status_code == 404
    set_doc(app, "Proposal", docs["proposal"], status=6)
    set_doc(app, "Estimate", docs["estimate"], status=1)
    set_doc(app, "Invoice", docs["invoice"], status=6)
    for kind in ("proposal", "estimate", "invoice"):
        resp = client.get(docs["urls"][kind])
        assert resp.status_code == 404, kind
        assert "Document not available" in resp.get_data(as_text=True)
        assert client.get(docs["urls"][kind] + "/pdf").status_code == 404
    # nothing happened to the draft proposal, and no login page was involved
    assert fetch(app, "Proposal", docs["proposal"]).status == 6
    with app.app_context():
        assert db.session.query(Proposal).filter_by(status=1).count() == 0


def test_document_page_shows_lines_totals_status_and_pdf(app, client, docs):
    html = client.get(docs["urls"]["estimate"]).get_data(as_text=True)
    assert "Sales order" in html and "EST-000003" in html and "Pallet rack bay 20" in html
    assert "2,681.70 EUR" in html  # the totals of crm.core.documents (the PDF's)
    assert "Sent" in html and "Download PDF" in html
    resp = client.get(docs["urls"]["estimate"] + "/pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
    assert "EST-000003.pdf" in resp.headers["Content-Disposition"]


def test_invoice_shows_paid_and_left_to_pay_and_downloads(app, client, docs):
    resp = client.get(docs["urls"]["invoice"])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "INV-000042" in html
    assert "Amount paid" in html and "1,000.00 EUR" in html
    assert "Left to pay" in html and "1,681.70 EUR" in html
    assert "/accept" not in html  # an invoice is not accepted
    pdf = client.get(docs["urls"]["invoice"] + "/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


# --- first open --------------------------------------------------------------------------------

def opened(client, url):
    """The portal page as a browser loads it: the GET, then the page's own POST that it was opened."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    beacon = re.search(r'hx-post="([^"]+)"', html)
    if beacon:
        assert client.post(beacon.group(1), data={"csrf_token": csrf_from(html)}).status_code == 204
    return html


def test_first_open_marks_reviewed_and_notifies_staff_once(app, client, docs):
    from crm.core.models.records import ActivityLog

    url = docs["urls"]["proposal"]
    assert client.get(url).status_code == 200
    assert fetch(app, "Proposal", docs["proposal"]).status == 4  # a GET alone (a link preview) changes nothing
    assert not outbox(app, rel_type="proposal", rel_id=docs["proposal"])
    opened(client, url)
    p = fetch(app, "Proposal", docs["proposal"])
    assert p.status == 1
    mails = outbox(app, rel_type="proposal", rel_id=docs["proposal"])
    assert [m.to_email for m in mails] == ["agent@test.example"]
    assert "PRO-000007" in mails[0].subject and "opened" in mails[0].subject
    with app.app_context():
        logs = db.session.query(ActivityLog).filter_by(rel_id=docs["proposal"]).all()
        assert any("opened proposal PRO-000007" in a.description for a in logs)
    html = opened(client, docs["urls"]["proposal"])  # reload
    assert "Open/Reviewed" in html and "hx-post" not in html
    assert len(outbox(app, rel_type="proposal", rel_id=docs["proposal"])) == 1


def test_sent_manually_is_reviewed_too_but_not_an_accepted_one(app, client, docs):
    set_doc(app, "Proposal", docs["proposal"], status=7)
    token = csrf_from(opened(client, docs["urls"]["proposal"]))
    assert fetch(app, "Proposal", docs["proposal"]).status == 1
    set_doc(app, "Proposal", docs["proposal"], status=3)
    opened(client, docs["urls"]["proposal"])
    assert fetch(app, "Proposal", docs["proposal"]).status == 3
    viewed = docs["urls"]["proposal"] + "/viewed"  # posted anyway: nothing changes
    assert client.post(viewed, data={"csrf_token": token}).status_code == 204
    assert fetch(app, "Proposal", docs["proposal"]).status == 3
    # opening the accepted one tells nobody (the acceptance itself was announced when it happened)
    assert len([m for m in outbox(app, rel_type="proposal") if "opened" in m.subject]) == 1


# --- accept / decline --------------------------------------------------------------------------

def test_accept_with_signature_stores_acceptance_and_signature_file(app, client, docs):
    url = docs["urls"]["proposal"]
    token = csrf_from(client.get(url).get_data(as_text=True))
    resp = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(url)
    html = client.get(url).get_data(as_text=True)
    assert "Thank you, Ion Popescu: you accepted PRO-000007." in html and "Accepted" in html
    p = fetch(app, "Proposal", docs["proposal"])
    assert p.status == 3
    assert (p.acceptance_firstname, p.acceptance_lastname, p.acceptance_email) == ("Ion", "Popescu", "ion@popescu.ro")
    assert p.acceptance_ip == "127.0.0.1" and p.acceptance_date is not None
    path = Path(app.instance_path) / "signatures" / p.signature
    assert "/" not in p.signature and path.exists() and path.read_bytes().startswith(b"\x89PNG")
    # accepted: no more forms; a second accept is refused with the rule's message
    assert 'name="signature"' not in html
    again = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()}, token)
    assert again.status_code == 409 and "already accepted" in again.get_data(as_text=True)
    assert len(list((Path(app.instance_path) / "signatures").iterdir())) == 1  # the refused one was removed


def test_accept_with_missing_fields_is_422_naming_them_and_changes_nothing(app, client, docs):
    url = docs["urls"]["proposal"]
    opened(client, url)  # reviewed
    resp = post_form(client, url, {"_action": "accept", "firstname": "Ion", "lastname": " ", "email": ""})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for msg in ("Last name is required.", "Email is required.", "Signature is required"):
        assert msg in html
    assert "First name is required." not in html and 'value="Ion"' in html
    p = fetch(app, "Proposal", docs["proposal"])
    assert p.status == 1 and p.acceptance_firstname is None and p.signature is None
    assert not (Path(app.instance_path) / "signatures").exists() or \
        not list((Path(app.instance_path) / "signatures").iterdir())


@pytest.mark.parametrize("signature, message", [
    (png_data_url(blank=True), "Signature is required"),
    ("data:image/png;base64,not-base64!!", "could not be read"),
    ("data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff").decode(), "must be a PNG"),
    ("data:image/png;base64," + base64.b64encode(b"GIF89a" + b"\0" * 100).decode(), "must be a PNG"),
    ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * (500 * 1024)).decode(),
     "larger than 500 KB"),
])
def test_a_bad_signature_is_refused(app, client, docs, signature, message):
    resp = post_form(client, docs["urls"]["proposal"], {"_action": "accept", **SIGNER, "signature": signature})
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert fetch(app, "Proposal", docs["proposal"]).status == 1


def test_expired_proposal_is_refused_with_what_to_do(app, client, docs):
    from crm.core import options

    set_doc(app, "Proposal", docs["proposal"], open_till=TODAY - timedelta(days=1))
    url = docs["urls"]["proposal"]
    with app.app_context():
        company = options.get("companyname")
    expected = f"This proposal expired on {TODAY - timedelta(days=1):%d.%m.%Y}; ask {company} to extend it"
    assert expected in client.get(url).get_data(as_text=True)  # said up front, no accept form
    resp = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()})
    assert resp.status_code == 409 and expected in resp.get_data(as_text=True)
    p = fetch(app, "Proposal", docs["proposal"])
    assert p.status == 1 and p.acceptance_firstname is None and p.signature is None
    assert not list((Path(app.instance_path) / "signatures").iterdir())


def test_decline_proposal(app, client, docs):
    url = docs["urls"]["proposal"]
    resp = post_form(client, url, {"_action": "decline", "firstname": "Ion", "lastname": "", "email": ""})
    assert resp.status_code == 302
    assert fetch(app, "Proposal", docs["proposal"]).status == 2
    html = client.get(url).get_data(as_text=True)
    assert "You declined PRO-000007" in html and 'name="signature"' not in html


def test_estimate_accept_auto_converts_to_invoice(app, client, docs):
    from crm.core import options
    from crm.sales.models.documents import Invoice

    with app.app_context():
        options.set("estimate_auto_convert_to_invoice_on_client_accept", True)
        db.session.commit()
        before = db.session.query(Invoice).count()
    url = docs["urls"]["estimate"]
    resp = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()})
    assert resp.status_code == 302
    e = fetch(app, "Estimate", docs["estimate"])
    assert e.invoiceid is not None and e.acceptance_email == "ion@popescu.ro" and e.signature
    with app.app_context():
        assert db.session.query(Invoice).count() == before + 1
        inv = db.session.get(Invoice, e.invoiceid)
        assert inv.clientid == docs["client"]
    html = client.get(url).get_data(as_text=True)
    assert "Invoice" in html and "was issued" in html
    assert outbox(app, rel_type="estimate", to_email="agent@test.example")  # the sales agent is told


def test_estimate_decline(app, client, docs):
    resp = post_form(client, docs["urls"]["estimate"], {"_action": "decline"})
    assert resp.status_code == 302 and fetch(app, "Estimate", docs["estimate"]).status == 3


def test_post_without_csrf_token_is_refused(app, client, docs):
    resp = client.post(docs["urls"]["proposal"] + "/accept", data={**SIGNER, "signature": png_data_url()})
    assert resp.status_code in (302, 400)
    assert fetch(app, "Proposal", docs["proposal"]).status == 4


# --- comments ----------------------------------------------------------------------------------

def test_comment_stores_a_note_sets_revised_and_notifies_staff(app, client, docs):
    from crm.sales.models.clients import Note

    url = docs["urls"]["proposal"]
    client.get(url)
    resp = post_form(client, url, {"_action": "comment", "name": "Ion Popescu",
                                   "content": "Can you add two more bays?"})
    assert resp.status_code == 302
    assert fetch(app, "Proposal", docs["proposal"]).status == 5
    with app.app_context():
        note = db.session.query(Note).filter_by(rel_type="proposal", rel_id=docs["proposal"]).one()
        assert "Can you add two more bays?" in note.description and "Ion Popescu" in note.description
    mails = outbox(app, rel_type="proposal", to_email="agent@test.example")
    assert len(mails) == 2 and any("commented" in m.subject for m in mails)
    html = client.get(url).get_data(as_text=True)
    assert "Can you add two more bays?" in html and "Revised" in html
    empty = post_form(client, url, {"_action": "comment", "content": "  "})
    assert empty.status_code == 422


def test_comments_off_hides_the_form_and_refuses(app, client, docs):
    set_doc(app, "Proposal", docs["proposal"], allow_comments=False)
    url = docs["urls"]["proposal"]
    assert "/comment" not in client.get(url).get_data(as_text=True)
    resp = post_form(client, url, {"_action": "comment", "content": "Hello"})
    assert resp.status_code == 409 and "Comments are turned off" in resp.get_data(as_text=True)
    assert fetch(app, "Proposal", docs["proposal"]).status == 1


# --- a real browser ------------------------------------------------------------------------------

@pytest.mark.e2e
def test_client_signs_and_accepts_in_a_browser(app, live_url, page, docs):  # noqa: F811
    page.goto(live_url + docs["urls"]["proposal"])
    assert page.is_visible("text=PRO-000007")
    pad = page.locator("#signature-pad")
    pad.scroll_into_view_if_needed()  # the mouse works in viewport coordinates
    box = pad.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 20, y + 100)
    page.mouse.down()
    for dx, dy in ((60, 40), (110, 120), (170, 50), (240, 110), (300, 60)):
        page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    assert page.input_value("#signature").startswith("data:image/png;base64,")
    page.fill("#firstname", "Ion")
    page.fill("#lastname", "Popescu")
    page.fill("#email", "ion@popescu.ro")
    page.click("[data-testid=accept]")
    page.wait_for_selector("[data-testid=flash]")
    assert "you accepted PRO-000007" in page.inner_text("[data-testid=flash]")
    assert "Accepted" in page.inner_text("[data-testid=status]")
    p = fetch(app, "Proposal", docs["proposal"])
    assert p.status == 3 and p.acceptance_lastname == "Popescu"
    assert (Path(app.instance_path) / "signatures" / p.signature).exists()


def test_an_oversized_form_gets_a_clear_page(app, client, docs):
    token = csrf_from(opened(client, docs["urls"]["proposal"]))
    huge = "data:image/png;base64," + "A" * (2 * 1024 * 1024)
    resp = client.post(docs["urls"]["proposal"] + "/accept", data={"csrf_token": token, **SIGNER, "signature": huge})
    html = resp.get_data(as_text=True)
    assert (resp.status_code, "too large" in html or "larger than 500 KB" in html) in ((413, True), (422, True))
    assert fetch(app, "Proposal", docs["proposal"]).status == 1
