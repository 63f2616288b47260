"""Stored files are served only from their own folder.

Every route that serves or reads a stored file is given a hostile name written straight into the
column (as an old row or a restored backup could hold): a climb to the instance's secret key, to
/etc/passwd, an absolute path, percent-encoded and backslash separators, and a symlink planted in
the folder that points outside it. Each answers 404 and never the target's bytes; a genuine stored
file still serves. Then the exploit as reported: PATCH a contract's signature through the API and
fetch it from the public portal.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import pytest

from crm.core import storage
from crm.core.extensions import db
from tests.conftest import api_token, login, make_role, make_staff
from tests.factories import Factory

SECRET = b"instance-secret-" + secrets.token_hex(16).encode()
OUTSIDE = b"outside-the-folder-" + secrets.token_hex(16).encode()


@pytest.fixture(autouse=True)
def instance(app, monkeypatch, tmp_path):
    """An instance folder of its own, holding a secret key, with every storage area inside it."""
    inst = tmp_path / "instance"
    inst.mkdir()
    (inst / "secret_key").write_bytes(SECRET)
    (tmp_path / "outside.txt").write_bytes(OUTSIDE)
    monkeypatch.setattr(app, "instance_path", str(inst))
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(inst / "uploads"))
    monkeypatch.setitem(app.config, "CRM_IMPORT_FOLDER", str(inst / "imports"))
    return inst


def hostile_names(depth: int) -> list[str]:
    """Names that would reach instance/secret_key from a folder ``depth`` levels below the instance."""
    climb = "../" * depth + "secret_key"
    return [climb, "../../../../../../../../etc/passwd", "/etc/passwd", str(Path("/etc") / "passwd"),
            climb.replace("/", "%2f"), climb.replace("/", "%2F"), climb.replace("/", "%252f"),
            climb.replace("/", "\\"), "..\\..\\..\\etc\\passwd", "..", ".", ""]


def plant_symlink(area: str, *sub, extension: str = "png", target: Path) -> str:
    """A safe-looking name in the area's folder that is a symlink to ``target`` outside it."""
    name = storage.new_name(extension)
    os.symlink(target, storage.folder(area, *sub) / name)
    return name


def refused(resp) -> bool:
    body = resp.get_data()
    return resp.status_code in (403, 404) and SECRET not in body and OUTSIDE not in body and b"root:" not in body


def _set(model, pk, **values):
    row = db.session.get(model, pk)
    for k, v in values.items():
        setattr(row, k, v)
    db.session.commit()


# --- the portal's contract signature, and the contract PDF that embeds it ------------------------

@pytest.fixture
def contract(app):
    from crm.sales.models.documents import Contract

    with app.app_context():
        c = Factory().rows(Contract)[0]
        c.hash, c.signed, c.trash, c.not_visible_to_client = secrets.token_hex(16), True, False, False
        db.session.commit()
        return c.id, f"/portal/contract/{c.id}/{c.hash}"


def test_portal_signature_refuses_names_leaving_the_folder(app, instance, contract):
    from crm.sales.models.documents import Contract

    cid, url = contract
    client = app.test_client()
    with app.app_context():
        names = hostile_names(1) + [plant_symlink("signatures", target=instance / "secret_key"),
                                    plant_symlink("signatures", target=instance.parent / "outside.txt")]
    for name in names:
        with app.app_context():
            _set(Contract, cid, signature=name)
        resp = client.get(f"{url}/signature.png")
        assert refused(resp), (name, resp.status_code)
    # A genuine signature serves.
    from crm.sales.portal import signatures
    from tests.sales.test_portal import png_data_url

    with app.app_context():
        png = signatures.decode(png_data_url())
        _set(Contract, cid, signature=signatures.store("contract", cid, png))
    resp = client.get(f"{url}/signature.png")
    assert resp.status_code == 200 and resp.data == png


def test_contract_pdf_embeds_only_a_signature_inside_the_folder(app, admin_client, instance, contract):
    from crm.sales.models.documents import Contract
    from crm.sales.portal import signatures
    from tests.sales.test_contracts import _images_in
    from tests.sales.test_portal import png_data_url

    cid, url = contract
    png = png_data_url()
    with app.app_context():
        png_bytes = signatures.decode(png)
    (instance.parent / "outside.png").write_bytes(png_bytes)  # an image elsewhere on the server
    with app.app_context():
        names = hostile_names(1) + [plant_symlink("signatures", target=instance.parent / "outside.png")]
    for name in names:
        with app.app_context():
            _set(Contract, cid, signature=name)
        resp = admin_client.get(f"/admin/documents/contract/{cid}.pdf")
        assert resp.status_code == 200 and SECRET not in resp.data and OUTSIDE not in resp.data
        assert _images_in(resp.data) == 0, name
    resp = app.test_client().get(f"{url}/pdf")  # the client's copy from the portal: the same
    assert resp.status_code == 200 and _images_in(resp.data) == 0
    with app.app_context():
        _set(Contract, cid, signature=signatures.store("contract", cid, png_bytes))
    assert _images_in(admin_client.get(f"/admin/documents/contract/{cid}.pdf").data) == 1


def test_the_reported_exploit_patch_signature_then_fetch_it_from_the_portal(app, instance, contract):
    """A staff member who may edit contracts cannot make the public portal serve the secret key: the
    stored name is not theirs to write (422), and a hostile name already stored is refused (404)."""
    from crm.sales.models.documents import Contract

    cid, url = contract
    with app.app_context():
        make_role("Contract editor", ["contracts.view", "contracts.edit"])
        make_staff("editor@test.example", "Contract editor")
        storage.folder("signatures")  # as on any install where someone has signed
    client = app.test_client()
    headers = api_token(client, "editor@test.example", "pass-1234")
    patch = client.patch(f"/api/v1/contracts/{cid}", json={"signature": "../secret_key"}, headers=headers)
    assert patch.status_code == 422 and patch.get_json()["field"] == "signature", patch.get_json()
    with app.app_context():
        _set(Contract, cid, signature="../secret_key")  # as an old row might hold
    resp = app.test_client().get(f"{url}/signature.png")
    assert resp.status_code == 404
    assert SECRET not in resp.data and app.config["SECRET_KEY"].encode() not in resp.data


# --- lead attachments ----------------------------------------------------------------------------

def test_attachment_download_refuses_names_leaving_the_folder(app, admin_client, instance):
    from crm.core.models.records import File
    from crm.sales.models.clients import Lead

    with app.app_context():
        lead = Factory().rows(Lead)[0]
        row = File(rel_type="lead", rel_id=lead.id, file_name="placeholder", filetype="text/plain")
        db.session.add(row)
        db.session.commit()
        file_id, lead_id = row.id, lead.id
        names = hostile_names(3) + [plant_symlink("attachments", "lead", lead_id, extension="txt",
                                                  target=instance / "secret_key")]
    for name in names:
        with app.app_context():
            _set(File, file_id, file_name=name)
        assert refused(admin_client.get(f"/admin/leads/attachment/{file_id}")), name
    with app.app_context():
        name = storage.save("attachments", b"genuine", "txt", "lead", lead_id, label="offer.txt")
        _set(File, file_id, file_name=name)
    resp = admin_client.get(f"/admin/leads/attachment/{file_id}")
    assert resp.status_code == 200 and resp.data == b"genuine"
    assert "offer.txt" in resp.headers["Content-Disposition"]


# --- e-Factura archive and PDF -------------------------------------------------------------------

def test_efactura_archive_and_pdf_refuse_names_leaving_the_folder(app, admin_client, instance):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        inv = Factory().rows(Invoice)[0]
        inv_id = inv.id
        db.session.commit()
        planted = plant_symlink("efactura", inv_id, extension="zip", target=instance / "secret_key")
        os.symlink(instance.parent / "outside.txt", storage.folder("efactura", inv_id) / storage.companion(planted, "pdf"))
    for name in hostile_names(3) + [planted, "../" * 3 + "secret_key.zip"]:
        with app.app_context():
            _set(Invoice, inv_id, efactura_archive=name)
        for what in ("zip", "pdf"):
            assert refused(admin_client.get(f"/admin/efactura/invoice/{inv_id}/archive.{what}")), (name, what)
    with app.app_context():
        name = storage.save("efactura", b"PK-genuine-zip", "zip", inv_id)
        storage.write("efactura", storage.companion(name, "pdf"), b"%PDF-genuine", inv_id)
        _set(Invoice, inv_id, efactura_archive=name, efactura_download_id="4200")
    resp = admin_client.get(f"/admin/efactura/invoice/{inv_id}/archive.zip")
    assert resp.status_code == 200 and resp.data == b"PK-genuine-zip" and "4200.zip" in resp.headers["Content-Disposition"]
    resp = admin_client.get(f"/admin/efactura/invoice/{inv_id}/archive.pdf")
    assert resp.status_code == 200 and resp.data == b"%PDF-genuine"


# --- courier labels ------------------------------------------------------------------------------

def test_awb_label_refuses_names_leaving_the_folder(app, admin_client, instance):
    from crm.warehouse.models import Shipment

    with app.app_context():
        s = Factory().rows(Shipment)[0]
        s.awb_number = "AWB123"
        db.session.commit()
        sid = s.id
        names = hostile_names(1) + [plant_symlink("labels", extension="pdf", target=instance / "secret_key")]
    for name in names:
        with app.app_context():
            _set(Shipment, sid, label_path=name)
        assert refused(admin_client.get(f"/admin/innoship/label/{sid}.pdf")), name
    with app.app_context():
        _set(Shipment, sid, label_path=storage.save("labels", b"%PDF-label", "pdf"))
    resp = admin_client.get(f"/admin/innoship/label/{sid}.pdf")
    assert resp.status_code == 200 and resp.data == b"%PDF-label"


# --- lead imports: the reading job and the import job read only their own folder -----------------

def _import_row(stored_path: str, status: str, **kw) -> int:
    from crm.capture.models import LeadImport

    imp = LeadImport(file_name="leads.csv", stored_path=stored_path, status=status, total=1, **kw)
    db.session.add(imp)
    db.session.commit()
    return imp.id


def test_import_jobs_refuse_names_leaving_the_folder(app, admin_client, instance):
    """The file is read by jobs; a hostile name fails the import and nothing of the target shows."""
    from crm.capture.excel_import import read_upload, run_import
    from crm.capture.models import LeadImport
    from crm.sales.models.clients import Lead, LeadStatus, Pipeline

    (instance.parent / "outside.csv").write_bytes(b"Name\n" + OUTSIDE + b"\n")
    (instance / "imports").mkdir()
    with app.app_context():
        p = Pipeline(name="Direct", isdefault=True)  # so that only the file can fail the import
        db.session.add(p)
        db.session.flush()
        db.session.add(LeadStatus(name="New", statusorder=0, pipeline=p.id))
        db.session.commit()
        names = [n for n in hostile_names(1) if n] + ["../../outside.csv", "../secret_key.csv"]
        names.append(plant_symlink("imports", extension="csv", target=instance.parent / "outside.csv"))
    for name in names:
        for status, job in (("reading", read_upload), ("queued", run_import)):
            with app.app_context():
                imp_id = _import_row(name, status, mapping=json.dumps({"0": "name"}))
                job(imp_id)
                imp = db.session.get(LeadImport, imp_id)
                assert imp.status == "failed" and "no longer stored" in imp.message, (name, status)
                assert imp.preview is None
            page = admin_client.get(f"/admin/excelimport/{imp_id}")
            assert refused(page) or (page.status_code == 200 and OUTSIDE not in page.data
                                     and SECRET not in page.data)
    with app.app_context():
        assert db.session.query(Lead).count() == 0
    assert (instance / "secret_key").read_bytes() == SECRET  # a refused name deletes nothing
    assert (instance.parent / "outside.csv").exists()


# --- the resolver itself ---------------------------------------------------------------------------

def test_path_of_accepts_only_its_own_regular_files(app, instance):
    with app.app_context():
        name = storage.save("signatures", b"x", "png")
        assert storage.path_of("signatures", name) == (instance / "signatures" / name).resolve()
        for bad in hostile_names(1) + ["secret_key\x00.png", f"{name}\x00", None, 42, "a" * 300]:
            assert storage.path_of("signatures", bad) is None, bad
        # Sub-folders are checked as names too: no climbing out of the area through them.
        (instance / "uploads").mkdir()
        (instance / "uploads" / "x.txt").write_bytes(b"x")
        assert storage.path_of("attachments", "x.txt") is not None
        assert storage.path_of("attachments", "secret_key", "..") is None
        assert storage.path_of("attachments", "x.txt", "lead/..") is None
        (instance / "signatures" / "adir").mkdir()
        assert storage.path_of("signatures", "adir") is None  # not a regular file
        assert storage.path_of("signatures", storage.new_name("png")) is None  # missing
        # A server-made name never carries what the uploader's name held, beyond a clean extension.
        assert re.fullmatch(r"[0-9a-f]{32}", storage.new_name("../../x"))
        made = storage.new_name("PDF", label="../../etc/passwd.pdf")
        assert storage.is_safe_name(made) and made.endswith("-etc_passwd.pdf")
        dotted = storage.new_name("txt", label="offer..final.txt")
        assert storage.is_safe_name(dotted) and dotted.endswith("-offer.final.txt")
