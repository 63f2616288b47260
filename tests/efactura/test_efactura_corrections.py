"""e-Factura, as ANAF and the law count it: an accepted invoice keeps what ANAF holds; an upload
waits in the queue until ANAF gives a final answer; a private buyer is named; a CUI with a wrong
check digit is caught before sending; the demo's ANAF stand-in can be told to reject or fail, and
renders credit notes too."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from crm.core.extensions import db
from crm.efactura import samples, ubl
from tests.conftest import api_token, csrf_from
from tests.efactura.test_efactura_flow import _act, _cron, _invoice, _state, anaf  # noqa: F401 (anaf is a fixture)

pytest.importorskip("saxonche")
NS = {"cac": ubl.NS_CAC, "cbc": ubl.NS_CBC}


def _accepted(app, anaf, **kw):
    anaf.polls_before_result = 0
    inv = _invoice(app, **kw)
    assert _act(app, inv, "efactura_send").status_code == 200
    assert _act(app, inv, "efactura_check").status_code == 200
    assert _state(app, inv)["efactura_status"] == "ok"
    return inv


def test_an_accepted_invoice_keeps_what_anaf_holds(app, anaf, admin_client):
    from crm.sales.models.documents import Invoice

    inv = _accepted(app, anaf)
    uploaded = anaf.uploads[_state(app, inv)["efactura_upload_index"]]["xml"]
    api, headers = app.test_client(), api_token(app.test_client())
    for payload, field in (({"adjustment": "-544.50"}, "adjustment"),
                           ({"items": [{"description": "Laptop", "qty": "1", "rate": "1350.00"}]}, "items")):
        r = api.patch(f"/api/v1/invoices/{inv}", headers=headers, json=payload)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
        assert "ANAF" in r.get_json()["error"] and "credit note" in r.get_json()["error"]
    with app.app_context():
        row = db.session.get(Invoice, inv)
        assert row.total == Decimal("8470.00") and len(row.items) == 1
        client_id = row.clientid
    # The client's own record may change (a new name, a move): the document ANAF holds does not.
    r = api.patch(f"/api/v1/clients/{client_id}", headers=headers, json={"company": "Nordic Trade Group SRL"})
    assert r.status_code == 200, r.get_json()
    # Nor does any invoice action rewrite it: cancelling leaves the uploaded document as it was.
    assert _act(app, inv, "mark_cancelled").status_code == 200
    served = admin_client.get(f"/admin/efactura/invoice/{inv}.xml")
    assert served.status_code == 200 and served.data == uploaded
    generated = _act(app, inv, "efactura_generate")
    assert generated.status_code == 200
    assert f"the one uploaded ({len(uploaded)} bytes)" in generated.get_json()["message"]
    assert _act(app, inv, "efactura_send").status_code == 409 and len(anaf.uploads) == 1


def test_a_refused_token_on_a_status_check_keeps_the_upload_in_the_queue(app, anaf, admin_client, monkeypatch):
    from crm.core import options
    from crm.efactura import service

    monkeypatch.setattr(service, "BACKOFF_MINUTES", (0,))  # every further check due at once
    anaf.polls_before_result = 0
    inv = _invoice(app)
    assert _act(app, inv, "efactura_send").status_code == 200
    anaf.fail("stareMesaj", "401")
    assert "1 e-Factura upload(s) checked" not in _cron(app, "efactura_check_pending").output
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation" and "refused the token" in st["efactura_message"]
    assert st["efactura_next_check"] is not None  # still in the queue
    with app.app_context():
        assert options.get("efactura_token_status") == "expired"
        anaf.refresh_tokens.add("rt-1")
        options.set("efactura_refresh_token", "rt-1")
        db.session.commit()
    _cron(app, "efactura_check_pending")  # with a refused token the job waits, asking nothing
    assert anaf.calls["stareMesaj"] == 1
    # Regenerate on the settings screen; the job then gets ANAF's answer by itself.
    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    done = admin_client.post("/admin/billing/efactura/regenerate", data={"csrf_token": csrf_from(page)},
                             follow_redirects=True)
    assert "Token regenerated" in done.get_data(as_text=True)
    assert "1 e-Factura upload(s) checked" in _cron(app, "efactura_check_pending").output
    st = _state(app, inv)
    assert st["efactura_status"] == "ok" and st["efactura_next_check"] is None


@pytest.mark.parametrize("fault", ["500", "timeout", "401"])
def test_every_status_fault_leaves_a_next_check(app, anaf, fault):
    anaf.polls_before_result = 0
    inv = _invoice(app)
    _act(app, inv, "efactura_send")
    anaf.fail("stareMesaj", fault)
    assert _act(app, inv, "efactura_check").status_code == 409
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation" and st["efactura_next_check"] is not None


def test_a_private_buyer_is_named_by_the_primary_contact(app, anaf, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    inv = _invoice(app, client_kw={"company": "", "vat": None, "city": "Iasi", "state": "IS"})
    with app.app_context():
        client = db.session.get(Invoice, inv).client
        contact = next(c for c in client.contacts if c.is_primary)
        contact.firstname, contact.lastname = "Elena", "Marin"
        db.session.commit()
        assert db.session.get(Client, client.userid).company == ""
    assert _act(app, inv, "efactura_generate").status_code == 200
    tree = etree.fromstring(admin_client.get(f"/admin/efactura/invoice/{inv}.xml").data)
    buyer = tree.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer.findtext("cac:PartyLegalEntity/cbc:RegistrationName", namespaces=NS) == "Elena Marin"
    assert buyer.findtext("cac:PartyName/cbc:Name", namespaces=NS) in (None, "Elena Marin")
    assert buyer.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS) == "0000000000000"


def test_cui_check_digits_and_a_company_without_vat_are_findings(app, anaf, monkeypatch):
    from crm.core import options

    bad_buyer = _invoice(app, client_kw={"company": "Cifra Gresita SRL", "vat": "RO14399841"})
    r = _act(app, bad_buyer, "efactura_send")
    assert r.status_code == 409
    assert "Client “Cifra Gresita SRL”" in r.get_json()["error"] and "VAT number" in r.get_json()["error"]
    assert "check digit" in r.get_json()["error"]

    company_no_vat = _invoice(app, client_kw={"company": "Fabrica de Bere SRL", "vat": None})
    r = _act(app, company_no_vat, "efactura_generate")
    assert r.status_code == 200, r.get_json()
    message = r.get_json()["message"]
    assert "Client “Fabrica de Bere SRL”" in message and "VAT number" in message and "private person" in message

    good = _invoice(app)
    with app.app_context():  # the profile screen refuses it, so it comes from the environment
        with pytest.raises(Exception, match="company_cui: 18547291 fails the CUI check digit"):
            options.set("company_cui", "RO18547291")
        db.session.rollback()
    monkeypatch.setenv("COMPANY_CUI", "RO18547291")  # one digit off
    r = _act(app, good, "efactura_send")
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert "Company profile (/admin/company): CUI 18547291 fails the CUI check digit" in error
    assert anaf.calls["upload"] == 0


def test_anafs_r61_points_to_the_company_profile(app, anaf):
    anaf.unknown_cifs.add("18547290")
    anaf.polls_before_result = 0
    inv = _invoice(app)
    _act(app, inv, "efactura_send")
    _act(app, inv, "efactura_check")
    message = _state(app, inv)["efactura_message"]
    assert "R6.1" in message and "CUI in the Company profile (/admin/company)" in message
    assert "client VAT number" not in message


@pytest.fixture
def demo_sandbox(app, anaf):
    """The stand-in as the demo serves it: the settings screen offers its controls."""
    app.extensions["anaf_sandbox"] = anaf
    yield anaf
    app.extensions.pop("anaf_sandbox", None)


def _choose(admin_client, answer, errors=""):
    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    assert 'data-testid="efactura-sandbox"' in page
    return admin_client.post("/admin/billing/efactura/sandbox", follow_redirects=True,
                             data={"csrf_token": csrf_from(page), "next_upload": answer, "errors": errors})


def test_the_demo_walks_through_rejection_correction_and_resending(app, demo_sandbox, admin_client):
    anaf = demo_sandbox
    anaf.polls_before_result = 0
    inv = _invoice(app)
    done = _choose(admin_client, "reject", "E: BR-RO-100: orasul trebuie sa fie codificat")
    assert done.status_code == 200 and "the next upload will be rejected with errors" in done.get_data(as_text=True)
    assert _act(app, inv, "efactura_send").status_code == 200
    assert _act(app, inv, "efactura_check").status_code == 200
    st = _state(app, inv)
    assert st["efactura_status"] == "rejected"
    assert "BR-RO-100: orasul trebuie sa fie codificat" in st["efactura_message"]
    # Corrected and sent again: the sandbox is back to accepting.
    r = app.test_client().patch(f"/api/v1/invoices/{inv}", headers=api_token(app.test_client()),
                                json={"billing_city": "Cluj-Napoca"})
    assert r.status_code == 200, r.get_json()
    assert _act(app, inv, "efactura_send").status_code == 200
    assert _act(app, inv, "efactura_check").status_code == 200
    assert _state(app, inv)["efactura_status"] == "ok"

    # A failing server, then a lost answer: each as ANAF would give it.
    other = _invoice(app)
    _choose(admin_client, "fail500")
    r = _act(app, other, "efactura_send")
    assert r.status_code == 409 and "HTTP 500" in r.get_json()["error"]
    assert _state(app, other)["efactura_status"] == "send_failed"
    _choose(admin_client, "timeout")
    r = _act(app, other, "efactura_send")
    assert r.status_code == 409 and "may have received" in r.get_json()["error"]
    assert _state(app, other)["efactura_status"] == "uncertain"
    assert anaf.next_upload == "accept"  # one upload each time

    bad = _choose(admin_client, "maybe")
    assert bad.status_code == 422 and "next_upload" in bad.get_data(as_text=True)


def test_a_credit_note_gets_anafs_pdf(app, anaf, admin_client):
    from crm.sales.models.documents import Invoice

    inv = _accepted(app, anaf)
    assert _act(app, inv, "mark_cancelled").status_code == 200
    assert _act(app, inv, "efactura_credit_note").status_code == 200
    with app.app_context():
        credit = db.session.query(Invoice).filter(Invoice.id != inv).one().id
    assert _act(app, credit, "efactura_send").status_code == 200
    assert _act(app, credit, "efactura_check").status_code == 200
    assert _state(app, credit)["efactura_status"] == "ok"
    assert anaf.uploads[_state(app, credit)["efactura_upload_index"]]["standard"] == "CN"
    pdf = admin_client.get(f"/admin/efactura/invoice/{credit}/archive.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
