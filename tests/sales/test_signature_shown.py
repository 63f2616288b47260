"""A proposal or sales order accepted in the portal with a drawn signature shows that signature, the
signer and the time in three places: the staff's document page, the client's portal page and the PDF
(read back with pdftotext and pdfimages)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from crm.core.extensions import db
from tests.conftest import login
from tests.core.test_pdf_documents import pdf_text
from tests.sales.test_portal import SIGNER, _portal_env, docs, fetch, png_data_url, post_form  # noqa: F401


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _images(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdfimages"):
        pytest.skip("pdfimages is not installed (apt-get install poppler-utils)")
    (tmp_path / "doc.pdf").write_bytes(pdf)
    return subprocess.run(["pdfimages", "-list", str(tmp_path / "doc.pdf")], capture_output=True,
                          check=True).stdout.decode()


@pytest.mark.parametrize("kind, model, admin_url", [("proposal", "Proposal", "proposals"),
                                                    ("estimate", "Estimate", "estimates")])
def test_signature_signer_and_time_on_the_page_the_portal_and_the_pdf(app, client, docs, tmp_path, kind, model,
                                                                      admin_url):
    url = docs["urls"][kind]
    resp = post_form(client, url, {"_action": "accept", **SIGNER, "signature": png_data_url()})
    assert resp.status_code == 302
    doc = fetch(app, model, docs[kind])
    when = doc.acceptance_date
    signed = f"Signed by Ion Popescu (ion@popescu.ro) on {when:%Y-%m-%d} at {when:%H:%M} UTC"

    portal = client.get(url).get_data(as_text=True)
    block = portal[portal.index('data-testid="signature-block"'):]
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="Signature of Ion Popescu"', block)
    assert signed in _text(block)
    assert _text(portal).count("Signed by Ion Popescu") == 1  # once, not a second "Accepted by" box

    admin_client = app.test_client()
    login(admin_client)
    staff = admin_client.get(f"/admin/{admin_url}/details/?id={doc.id}").get_data(as_text=True)
    sig = staff[staff.index('data-testid="signature"'):]
    assert 'src="data:image/png;base64,' in sig[:3000]
    assert "Ion Popescu" in _text(sig[:3000]) and f"{when:%d %b %Y, %H:%M}" in _text(sig[:3000])

    for pdf in (admin_client.get(f"/admin/documents/{kind}/{doc.id}.pdf").data,
                client.get(f"{url}/pdf").data):
        assert signed in " ".join(pdf_text(pdf).split())
        assert re.search(r"\s120\s+40\s", _images(pdf, tmp_path))  # the 120×40 drawing is embedded


def test_an_unsigned_proposal_prints_no_signature_block(app, client, docs):
    with app.app_context():
        from crm.core.documents import render_html
        from crm.sales.models.documents import Proposal

        html = render_html(db.session.get(Proposal, docs["proposal"]))
    assert 'data-testid="signature-block"' not in html
