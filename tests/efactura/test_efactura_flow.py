"""e-Factura against the ANAF sandbox on loopback: connect (OAuth), send, check, download, the
jobs (status polling with backoff, auto-send, token refresh, received invoices) and the faults
(HTTP 500, timeout, 204, malformed reply, expired token)."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from crm.core.company import Profile
from crm.core.extensions import db
from crm.efactura import document, samples, ubl
from crm.efactura.anaf import jwt_expiry
from crm.efactura.sandbox import AnafSandbox
from tests.conftest import api_token, csrf_from

pytest.importorskip("saxonche")


@pytest.fixture
def anaf(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    with AnafSandbox() as sandbox:
        sandbox.timeout_sleep = 2.5
        with app.app_context():
            from crm.core import options

            samples.ensure_company()
            samples.ensure_taxes()
            for name, value in {"efactura_api_url": sandbox.url, "efactura_oauth_url": sandbox.oauth_url,
                                "efactura_public_url": sandbox.public_url, "efactura_client_id": "crm-app",
                                "efactura_client_secret": "s3cret", "efactura_timeout": "1",
                                "efactura_access_token": sandbox.issue_token(),
                                "efactura_refresh_token": ""}.items():
                options.set(name, value)
            db.session.commit()
        yield sandbox
    app.config.pop("UPLOAD_FOLDER", None)


def _invoice(app, lines=None, client_kw=None, **kw):
    with app.app_context():
        client = samples.make_client(**{"company": "Nordic Trade SRL", "vat": "RO14399840", "city": "Cluj-Napoca",
                                        "state": "Cluj", **(client_kw or {})})
        inv = samples.make_invoice(client, lines or [("Laptop", 2, "3500.00", "TVA 21%", "buc", 0)], **kw)
        db.session.commit()
        return inv.id


def _state(app, invoice_id):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = db.session.get(Invoice, invoice_id)
        return {k: getattr(inv, k) for k in ("efactura_status", "efactura_upload_index", "efactura_download_id",
                                              "efactura_message", "efactura_archive", "efactura_next_check",
                                              "efactura_check_count")}


def _act(app, invoice_id, name, **data):
    headers = api_token(app.test_client())
    return app.test_client().post(f"/api/v1/invoices/{invoice_id}/actions/{name}", json=data, headers=headers)


def _due_now(app, invoice_id):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        db.session.get(Invoice, invoice_id).efactura_next_check = datetime.utcnow() - timedelta(seconds=1)
        db.session.commit()


def _cron(app, job):
    return app.test_cli_runner().invoke(args=["crm", "cron", job])


def test_send_check_download_the_whole_flow(app, anaf, admin_client):
    inv = _invoice(app)
    resp = _act(app, inv, "efactura_send")
    assert resp.status_code == 200, resp.get_json()
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation"
    assert st["efactura_upload_index"] in anaf.uploads  # index_incarcare kept at once
    # Sent again while awaiting: refused, nothing uploaded.
    again = _act(app, inv, "efactura_send")
    assert again.status_code == 409 and "never uploaded twice" in again.get_json()["error"]
    assert anaf.calls["upload"] == 1

    # First check: ANAF still processing -> stays awaiting, next check scheduled (backoff).
    resp = _act(app, inv, "efactura_check")
    assert resp.status_code == 200 and "still processing" in resp.get_json()["message"]
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation" and st["efactura_next_check"] > datetime.utcnow()
    # The job leaves it until the next check is due, then asks again: ok -> OK, archive downloaded.
    _cron(app, "efactura_check_pending")
    assert anaf.calls["stareMesaj"] == 1
    _due_now(app, inv)
    _cron(app, "efactura_check_pending")
    st = _state(app, inv)
    assert st["efactura_status"] == "ok" and st["efactura_download_id"]
    assert re.fullmatch(r"[0-9a-f]{32}\.zip", st["efactura_archive"])  # a name the server made

    # The archive and the PDF are downloadable from the invoice.
    page = admin_client.get(f"/admin/invoices/details/?id={inv}").get_data(as_text=True)
    assert "Awaiting Validation" not in page and ">OK<" in page and "ANAF archive" in page
    archive = admin_client.get(f"/admin/efactura/invoice/{inv}/archive.zip")
    assert f'filename={st["efactura_download_id"]}.zip' in archive.headers["Content-Disposition"]
    names = zipfile.ZipFile(io.BytesIO(archive.data)).namelist()
    assert sorted(names) == sorted([f"{st['efactura_download_id']}.xml", f"semnatura_{st['efactura_download_id']}.xml"])
    pdf = admin_client.get(f"/admin/efactura/invoice/{inv}/archive.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # Download button again: same archive, kept under the same name.
    assert _act(app, inv, "efactura_download").status_code == 200
    assert _state(app, inv)["efactura_archive"] == st["efactura_archive"]
    assert _act(app, inv, "efactura_send").status_code == 409  # accepted: never uploaded twice
    assert anaf.calls["upload"] == 1


def test_rejected_invoice_is_corrected_and_sent_again(app, anaf):
    from crm.core import options

    anaf.unknown_cifs.add("18547290")  # ANAF's server-side R6.1: the seller's CIF is unknown
    anaf.polls_before_result = 0
    inv = _invoice(app)
    assert _act(app, inv, "efactura_send").status_code == 200
    assert _act(app, inv, "efactura_check").status_code == 200
    st = _state(app, inv)
    assert st["efactura_status"] == "rejected"
    assert "R6.1: CIF-ul vanzatorului nu figureaza in baza de date" in st["efactura_message"]
    first_index = st["efactura_upload_index"]
    # Corrected (here: ANAF now knows the CIF) and sent again.
    anaf.unknown_cifs.clear()
    assert _act(app, inv, "efactura_send").status_code == 200
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation" and st["efactura_upload_index"] != first_index
    _act(app, inv, "efactura_check")
    assert _state(app, inv)["efactura_status"] == "ok"
    assert anaf.calls["upload"] == 2
    with app.app_context():
        assert options.get("efactura_token_status") in ("", "active")


def test_a_bad_invoice_is_not_uploaded(app, anaf):
    inv = _invoice(app, client_kw={"state": "Atlantida"})
    resp = _act(app, inv, "efactura_send")
    assert resp.status_code == 409 and "Atlantida" in resp.get_json()["error"]
    assert anaf.calls["upload"] == 0 and _state(app, inv)["efactura_status"] == "not_sent"


@pytest.mark.parametrize("fault, words", [("500", "HTTP 500"), ("204", "daily limit"), ("401", "Regenerate")])
def test_upload_refused_leaves_send_failed_and_can_be_sent_again(app, anaf, fault, words):
    from crm.core import options

    inv = _invoice(app)
    anaf.fail("upload", fault)
    resp = _act(app, inv, "efactura_send")
    assert resp.status_code == 409 and words in resp.get_json()["error"]
    st = _state(app, inv)
    assert st["efactura_status"] == "send_failed" and words in st["efactura_message"]
    assert not anaf.uploads  # nothing registered at ANAF
    if fault == "401":
        with app.app_context():
            assert options.get("efactura_token_status") == "expired"
        assert "Regenerate" in _act(app, inv, "efactura_send").get_json()["error"]
        with app.app_context():
            options.set("efactura_token_status", "active")
            db.session.commit()
    assert _act(app, inv, "efactura_send").status_code == 200
    assert len(anaf.uploads) == 1


@pytest.mark.parametrize("fault", ["timeout_after", "malformed"])
def test_no_answer_to_an_upload_is_never_resent_blindly(app, anaf, fault):
    inv = _invoice(app)
    anaf.fail("upload", fault)
    resp = _act(app, inv, "efactura_send")
    assert resp.status_code == 409 and "may have received" in resp.get_json()["error"]
    assert _state(app, inv)["efactura_status"] == "uncertain"
    refused = _act(app, inv, "efactura_send")
    assert refused.status_code == 409 and "SPV" in refused.get_json()["error"]
    # The auto-send job does not touch it either.
    with app.app_context():
        from crm.core import options

        options.set("efactura_auto_send", "1")
        options.set("efactura_auto_send_after_days", "0")
        db.session.commit()
    _cron(app, "efactura_auto_send")
    assert _state(app, inv)["efactura_status"] == "uncertain"
    uploads_before = len(anaf.uploads)
    # A person looked in SPV and confirms: sent once more.
    assert _act(app, inv, "efactura_send", confirm_resend="y").status_code == 200
    assert len(anaf.uploads) == uploads_before + 1
    assert _state(app, inv)["efactura_status"] == "awaiting_validation"


@pytest.mark.parametrize("fault", ["500", "timeout", "204", "malformed"])
def test_status_check_faults_keep_the_invoice_awaiting_and_retry(app, anaf, fault):
    anaf.polls_before_result = 0
    inv = _invoice(app)
    _act(app, inv, "efactura_send")
    anaf.fail("stareMesaj", fault)
    resp = _act(app, inv, "efactura_check")
    assert resp.status_code == 409
    st = _state(app, inv)
    assert st["efactura_status"] == "awaiting_validation" and st["efactura_message"].startswith("Status not known")
    if fault != "malformed":
        assert st["efactura_next_check"] > datetime.utcnow()  # retried by the job
    _due_now(app, inv)
    _cron(app, "efactura_check_pending")
    assert _state(app, inv)["efactura_status"] == "ok"


def test_expired_token_gives_a_clear_status_and_message(app, anaf, admin_client):
    from crm.core import options

    inv = _invoice(app)
    with app.app_context():
        options.set("efactura_access_token", anaf.issue_token(days=-1))
        db.session.commit()
    resp = _act(app, inv, "efactura_send")
    assert resp.status_code == 409
    assert "token has expired" in resp.get_json()["error"] and "Regenerate" in resp.get_json()["error"]
    assert anaf.calls["upload"] == 0 and _state(app, inv)["efactura_status"] == "not_sent"
    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    assert "Expired" in page and "Regenerate" in page


def test_connect_to_anaf_and_regenerate(app, anaf, admin_client):
    from crm.core import options

    with app.app_context():
        options.set("efactura_access_token", "")
        db.session.commit()
    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    assert "Not connected to ANAF" in page and "Connect to ANAF" in page
    resp = admin_client.post("/admin/billing/efactura/connect", data={"csrf_token": csrf_from(page)})
    assert resp.status_code == 302 and resp.location.startswith(anaf.oauth_url + "authorize?")
    query = parse_qs(urlparse(resp.location).query)
    assert query["response_type"] == ["code"] and query["client_id"] == ["crm-app"]
    assert query["token_content_type"] == ["jwt"]
    # The person logs in at ANAF with the certificate; ANAF redirects back with the code.
    back = requests.get(resp.location, allow_redirects=False, timeout=5)
    callback = urlparse(back.headers["Location"])
    done = admin_client.get(f"{callback.path}?{callback.query}", follow_redirects=True).get_data(as_text=True)
    assert "Connected to ANAF; the token is valid until" in done
    with app.app_context():
        token = options.get("efactura_access_token")
        first_refresh = options.get("efactura_refresh_token")
    expires = jwt_expiry(token)
    assert token in anaf.tokens and first_refresh and expires.date() == (datetime.utcnow() + timedelta(days=90)).date()
    assert expires.strftime("%Y-%m-%d %H:%M") in done

    # A forged callback is refused.
    bad = admin_client.get("/admin/billing/efactura/callback?code=x&state=forged", follow_redirects=True)
    assert "does not match" in bad.get_data(as_text=True)

    # Regenerate: refresh token traded for new tokens; the new refresh token is kept.
    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    done = admin_client.post("/admin/billing/efactura/regenerate", data={"csrf_token": csrf_from(page)},
                             follow_redirects=True).get_data(as_text=True)
    assert "Token regenerated" in done
    with app.app_context():
        assert options.get("efactura_access_token") != token
        assert options.get("efactura_refresh_token") != first_refresh


def test_refresh_job_renews_the_token_before_it_expires(app, anaf):
    from crm.core import options

    with app.app_context():
        options.set("efactura_access_token", anaf.issue_token(days=30))
        anaf.refresh_tokens.add("rt-1")
        options.set("efactura_refresh_token", "rt-1")
        db.session.commit()
    assert "valid until" in _cron(app, "efactura_refresh_token").output
    with app.app_context():
        assert options.get("efactura_refresh_token") == "rt-1"  # 30 days left: not yet
        options.set("efactura_access_token", anaf.issue_token(days=3))
        db.session.commit()
    assert "refreshed" in _cron(app, "efactura_refresh_token").output
    with app.app_context():
        assert options.get("efactura_refresh_token") != "rt-1"
        assert jwt_expiry(options.get("efactura_access_token")) > datetime.utcnow() + timedelta(days=80)
        # A refresh ANAF refuses marks the token refused, with the message on the settings screen.
        options.set("efactura_access_token", anaf.issue_token(days=1))
        options.set("efactura_refresh_token", "revoked")
        db.session.commit()
    assert "refresh failed" in _cron(app, "efactura_refresh_token").output
    with app.app_context():
        assert options.get("efactura_token_status") == "refused"


def test_auto_send_after_x_days(app, anaf):
    from crm.core import options

    old = _invoice(app, date=date.today() - timedelta(days=6))
    recent = _invoice(app, date=date.today() - timedelta(days=1))
    draft = _invoice(app, date=date.today() - timedelta(days=9), number=False)
    with app.app_context():
        from crm.sales.models.documents import Invoice

        db.session.get(Invoice, draft).status = 6
        options.set("efactura_auto_send_after_days", "5")
        db.session.commit()
    _cron(app, "efactura_auto_send")
    assert anaf.calls["upload"] == 0  # auto-send is OFF
    with app.app_context():
        options.set("efactura_auto_send", "1")
        db.session.commit()
    _cron(app, "efactura_auto_send")
    assert _state(app, old)["efactura_status"] == "awaiting_validation"
    assert _state(app, recent)["efactura_status"] == "not_sent"
    assert _state(app, draft)["efactura_status"] == "not_sent"
    _cron(app, "efactura_auto_send")
    assert anaf.calls["upload"] == 1


def _supplier_invoice_xml(app) -> bytes:
    """An invoice a supplier (Furnizor Metal SRL, CUI 14399840) sends us."""
    with app.app_context():
        us = samples.make_client("CRMConnect Demo SRL", vat="RO18547290", city="Cluj-Napoca", state="CJ")
        inv = samples.make_invoice(us, [("Tabla zincata", 10, "52.40", "TVA 21%", "buc", 0),
                                        ("Transport", 1, "150.00", "TVA 21%", None, 0)])
        db.session.commit()
        vendor = Profile(name="Furnizor Metal SRL", cui="14399840", vat_registered=True,
                         trade_register="J05/1/2001", street="Str. Fierului 2", city="Oradea", postal_code="410001",
                         county="RO-BH", country="RO", email=None, phone=None, website=None, logo=None)
        doc, findings = document.from_invoice(inv, company=vendor)
        assert not [f for f in findings if f.fatal]
        xml = ubl.to_xml(doc)
        db.session.delete(inv)
        db.session.commit()
        return xml


def test_received_invoices_become_vendor_invoices_once(app, anaf):
    from crm.purchasing.models import Vendor, VendorInvoice

    xml = _supplier_invoice_xml(app)
    with app.app_context():
        db.session.add(Vendor(company="Furnizor Metal (existing)", vat="RO14399840"))
        db.session.commit()
    first = anaf.receive(xml, "14399840", "18547290")
    anaf.fail("descarcare", "500")  # the first download fails: tried again next run, nothing lost
    out = _cron(app, "efactura_fetch_received").output
    assert "0 received invoice(s) recorded" in out and "HTTP 500" in out
    out = _cron(app, "efactura_fetch_received").output
    assert "1 received invoice(s) recorded" in out
    _cron(app, "efactura_fetch_received")
    with app.app_context():
        bills = db.session.query(VendorInvoice).all()
        assert len(bills) == 1
        bill = bills[0]
        assert bill.efactura_download_id == first
        assert bill.vendor_rel.company == "Furnizor Metal (existing)"  # matched by CUI
        assert str(bill.total) == "815.54" and str(bill.tax) == "141.54"
        assert [(d.description, d.quantity, d.unit_price) for d in bill.items] == [
            ("Tabla zincata", Decimal("10"), Decimal("52.40")), ("Transport", Decimal("1"), Decimal("150"))]
        assert db.session.query(Vendor).count() == 1


SAMPLES = __import__("pathlib").Path(__file__).parents[1] / "data" / "anaf-samples"


@pytest.mark.parametrize("sample, expected", [
    ("stare_mesaj_ok.xml", ("ok", "1234")),
    ("stare_mesaj_not_ok.xml", ("nok", "123")),
    ("stare_mesaj_in_prelucrare.xml", ("in prelucrare", None)),
    ("stare_mesaj_xml_erori.xml", ("XML cu erori nepreluat de sistem", None)),
    ("stare_mesaj_limita_apeluri.xml", "limit"),
    ("stare_mesaj_lipsa_drepturi.xml", "refused"),
    ("stare_mesaj_index_invalid.xml", "refused"),
    ("stare_mesaj_factura_inexistenta.xml", "refused"),
    ("stare_mesaj_drept_id_incarcare.xml", "refused"),
])
def test_client_reads_anafs_recorded_status_answers(anaf, sample, expected):
    from crm.efactura.anaf import AnafClient, AnafError

    client = AnafClient(anaf.url, anaf.issue_token(), timeout=5)
    anaf.fail("stareMesaj", (SAMPLES / sample).read_bytes())
    if isinstance(expected, tuple):
        status = client.status("3828")
        assert (status.state, status.download_id) == expected
    else:
        with pytest.raises(AnafError) as err:
            client.status("3828")
        assert err.value.kind == expected and err.value.retry == (expected == "limit")


def test_client_reads_anafs_recorded_upload_answers(anaf):
    from crm.efactura.anaf import AnafClient, AnafError

    client = AnafClient(anaf.url, anaf.issue_token(), timeout=5)
    anaf.fail("upload", (SAMPLES / "upload_success.xml").read_bytes())
    assert client.upload(b"<Invoice/>", "18547290") == "3828"
    anaf.fail("upload", (SAMPLES / "upload_standard_invalid.xml").read_bytes())
    with pytest.raises(AnafError) as err:
        client.upload(b"<Invoice/>", "18547290")
    assert err.value.kind == "refused" and "parametrul standard" in err.value.message


def test_rejection_errors_are_read_from_anafs_zip():
    from crm.efactura.service import rejection_errors

    errors = rejection_errors((SAMPLES / "3828.zip").read_bytes())
    assert errors == ["E: validari globale eroare regula: R6.1: CIF-ul vanzatorului nu figureaza in baza de "
                      "date:6443019833"]


def test_a_stale_send_loses_the_race_and_uploads_nothing(app, anaf):
    """Two people press Send at once: the conditional UPDATE lets only one upload through."""
    from sqlalchemy import update

    from crm.efactura import service
    from crm.sales.models.documents import Invoice

    inv = _invoice(app)
    with app.app_context():
        stale = db.session.get(Invoice, inv)  # read before the other send claims the upload
        assert stale.efactura_status == "not_sent"
        with db.engine.begin() as other:  # the other person's request claims it meanwhile
            other.execute(update(Invoice).where(Invoice.id == inv).values(efactura_status="uploading"))
        with pytest.raises(service.EfacturaFailure, match="being sent or was sent meanwhile"):
            service.send(stale)
    assert anaf.calls["upload"] == 0 and not anaf.uploads
    assert _state(app, inv)["efactura_status"] == "uploading"


def test_settings_screen_shows_the_seller_from_the_profile_and_keeps_tokens_out_of_the_form(app, anaf, admin_client):
    from crm.core import options

    page = admin_client.get("/admin/billing/efactura/").get_data(as_text=True)
    assert 'name="efactura_api_url"' in page
    assert 'name="efactura_cui"' not in page and 'name="company_cui"' not in page  # one profile, edited once
    assert "RO18547290" in page and "/admin/company/" in page  # the seller, with a link to the profile
    assert 'name="efactura_access_token"' not in page and 'name="efactura_refresh_token"' not in page
    assert 'type="password"' in page and "s3cret" in page  # the secret is a password field
    assert "Connected to ANAF" in page and "Access token expires" in page
    with app.app_context():
        form = {name: str(value) for name, value in options.get_many(
            *[d.name for d in options.OPTIONS.values() if d.group == "e-Factura"]).items()
            if not isinstance(value, bool)}
    form.update({"csrf_token": csrf_from(page), "efactura_auto_send": "1", "efactura_auto_send_after_days": "3"})
    for name in ("efactura_access_token", "efactura_refresh_token"):
        form.pop(name, None)
    done = admin_client.post("/admin/billing/efactura/", data=form, follow_redirects=True)
    assert done.status_code == 200 and "Saved" in done.get_data(as_text=True)
    with app.app_context():
        assert options.get("efactura_auto_send") is True
        assert options.get("efactura_auto_send_after_days") == 3
        assert options.get("efactura_access_token")  # untouched by the form
    bad = admin_client.post("/admin/billing/efactura/", data={**form, "efactura_auto_send_after_days": "soon"})
    assert bad.status_code == 422 and "expected a whole number" in bad.get_data(as_text=True)
