"""What a person reads on the generated screens: no raw column name anywhere (walked over every
generated view), one format for money, quantities and dates, forms in sections without internal
fields, small look-ups as plain selects, and the values a new record starts with."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask_admin.contrib.sqla import ModelView

from crm.admin_views.formats import format_money, format_qty, format_when, parse_ids
from crm.core.extensions import db
from crm.core.labels import label, tax_label
from crm.core.resources import columns
from tests.factories import Factory

# Perfex glues words together: a label word that starts or ends with one of these, and is longer,
# is two words left glued (Dateadded, Phonenumber, Leadorder, Addedfrom, Clientid).
GLUED = ("date", "added", "from", "order", "number", "name", "note", "mode", "created", "status", "rate",
         "client", "lead", "staff", "item", "invoice", "payment", "email", "phone", "type", "id")
REAL_WORDS = {"update", "updated", "updates", "mandate", "candidate", "validated", "border", "reorder",
              "named", "rename", "surname", "username", "noted", "notes", "ordered", "orders", "numbers",
              "names", "modes", "dates", "rates", "types", "items", "statuses", "invoices", "payments",
              "emails", "phones", "clients", "leads", "emailed", "typed", "paid", "valid", "void",
              "created", "rated", "itemised", "nameless", "dated", "staffed", "prorate", "moderate", "grid", "grids",
              "unpaid", "prepaid", "overpaid"}


def generated_views(app):
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, ModelView)]


def raw(text: str) -> str | None:
    """Why ``text`` reads as a column name, or None."""
    text = str(text)
    if "_" in text:
        return "underscore"
    if "Please select model" in text:
        return "placeholder"
    if text[:1].islower() and not text.startswith("e-Factura"):
        return "lowercase"
    for word in re.findall(r"[A-Za-z]+", text):
        w = word.lower()
        if w in REAL_WORDS or word.isupper():  # an acronym: UUID, IBAN
            continue
        for part in GLUED:
            if w != part and (w.startswith(part) or w.endswith(part)) and len(w) > len(part) + 1:
                return f"glued word {word!r}"
    return None


def test_no_raw_column_name_on_any_generated_view(app, admin_client):
    """Every grid column, filter, details row, CSV header and form field label of every view."""
    bad = []
    for view in generated_views(app):
        where = view.endpoint
        for name, text in view.get_list_columns():
            if (why := raw(text)):
                bad.append((where, "column", name, text, why))
        for flt in view._filters or ():
            if (why := raw(flt.name)):
                bad.append((where, "filter", flt.name, why))
        for name, text in view.get_details_columns():
            if (why := raw(text)):
                bad.append((where, "details", name, text, why))
        for name, text in view.get_export_columns():
            if (why := raw(text)):
                bad.append((where, "csv", name, text, why))
        if view.can_create:
            with app.test_request_context(f"{view.url}/new/"):
                from flask_login import login_user

                from crm.core.models.settings import Staff
                login_user(db.session.query(Staff).filter_by(admin=True).first())
                form = view.create_form()
                for field in form:
                    if field.type in ("CSRFTokenField", "HiddenField"):
                        continue
                    if (why := raw(field.label.text)):
                        bad.append((where, "form", field.name, field.label.text, why))
    assert not bad, "\n".join(map(str, bad))


def test_perfex_names_read_as_words():
    from crm.purchasing.models import PurchaseRequest
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Invoice, Proposal

    assert label(Lead, "dateadded") == "Date added"
    assert label(Lead, "addedfrom") == "Added by"
    assert label(Lead, "phonenumber") == "Phone number"
    assert label(Lead, "leadorder") == "Order on board"
    assert label(Invoice, "duedate") == "Due date"
    assert label(Invoice, "clientid") == "Client"  # a foreign key: what it points at
    assert label(Invoice, "client") == "Client"  # its relationship too
    assert label(Proposal, "estimate_id") == "Sales order"
    assert label(Proposal, "rel_id") == "Related to"
    assert label(PurchaseRequest, "pur_rq_code") == "RFQ number"


def test_taxes_name_their_rate_once():
    assert tax_label("TVA 21%", Decimal("21.00")) == "TVA 21%"
    assert tax_label("TVA", Decimal("21.00")) == "TVA 21%"
    assert tax_label("Reduced", Decimal("5.50")) == "Reduced 5.5%"


def test_one_format_for_money_quantities_and_dates():
    assert format_money(Decimal("14500")) == "14,500.00"
    assert format_money(Decimal("9945.48"), "RON") == "9,945.48 RON"
    assert format_money(None) == ""
    assert format_qty(Decimal("5.000")) == "5"
    assert format_qty(Decimal("2.500")) == "2.5"
    assert format_qty(Decimal("12000.000")) == "12,000"
    assert format_when(date(2026, 3, 1)) == "2026-03-01"
    assert format_when(datetime(2026, 3, 1, 14, 5, 59, 123456)) == "2026-03-01 14:05"
    assert parse_ids("[1, 5]") == [1, 5] and parse_ids("3,1") == [3, 1] and parse_ids(None) == []


def test_grid_shows_money_right_aligned_dates_without_time_and_ids_as_names(app, admin_client):
    from crm.catalog.models import Currency
    from crm.purchasing.models import PurchaseRequest, Vendor
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice
    from crm.catalog.models import PaymentMode

    with app.app_context():
        ron = Currency(name="RON", symbol="lei")
        c = Client(company="Acme SRL")
        bank, cash = PaymentMode(name="Bank transfer"), PaymentMode(name="Cash")
        v1, v3 = Vendor(company="Metal Supply"), Vendor(company="Bolt Trading")
        db.session.add_all([ron, c, bank, cash, v1, v3])
        db.session.flush()
        inv = Invoice(clientid=c.userid, currency=ron.id, formatted_number="INV-000777", number=777,
                      date=date(2026, 3, 1), duedate=date(2026, 3, 31), status=1, total=Decimal("14500"),
                      subtotal=Decimal("14500"), total_tax=Decimal("0"),
                      allowed_payment_modes=f"[{bank.id}, {cash.id}]")
        rq = PurchaseRequest(pur_rq_code="RFQ-1", pur_rq_name="Bolts", send_to_vendors=f"{v3.userid},{v1.userid}")
        db.session.add_all([inv, rq])
        db.session.commit()
        inv_id, rq_id = inv.id, rq.id
    grid = admin_client.get("/admin/invoices/").get_data(as_text=True)
    assert '<span class="crm-money">14,500.00 RON</span>' in grid
    assert "2026-03-31" in grid and "2026-03-31 00:00" not in grid
    details = admin_client.get(f"/admin/invoices/details/?id={inv_id}").get_data(as_text=True)
    assert "Bank transfer, Cash" in details and "[" not in re.sub(r"<[^>]+>", "", details).split("Allowed payment modes")[1][:40]
    rq_page = admin_client.get(f"/admin/purchase/purchase_request/details/?id={rq_id}")
    if rq_page.status_code == 404:  # the RFQ screen's URL comes from its declaration
        from crm.core.resources import resource_of
        rq_page = admin_client.get(f"/admin/{resource_of(PurchaseRequest).url}/details/?id={rq_id}")
    assert "Bolt Trading, Metal Supply" in rq_page.get_data(as_text=True)


def test_invoice_form_in_sections_without_internal_fields_and_with_defaults(app, admin_client):
    from crm.catalog.models import Currency
    from crm.core import options
    from tests.forms import form_of

    with app.app_context():
        db.session.add_all([Currency(name="EUR", symbol="€"), Currency(name="RON", symbol="lei", isdefault=True)])
        options.set("invoice_due_after", "15")
        db.session.commit()
        ron_id = db.session.query(Currency).filter_by(name="RON").one().id
    html = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
    titles = re.findall(r'data-testid="form-section-title">([^<]+)<', html)
    assert titles[0] == "Client" and "Dates" in titles and titles[-1] == "Notes", titles
    assert titles.index("Dates") < titles.index("Details")
    for internal in ("project_id", "is_recurring_from", "hash", "total", "subtotal", "formatted_number",
                     "efactura_status", "cancel_overdue_reminders", "last_overdue_reminder"):
        assert f'name="{internal}"' not in html, internal
    assert "Please select model" not in html
    assert '<option selected value="__None">Choose…</option>' in html or ">Choose…</option>" in html
    data = form_of(html)
    today = date.today()
    assert data["date"] == today.isoformat()
    assert data["duedate"] == (today + timedelta(days=15)).isoformat()
    assert data["currency_rel"] == str(ron_id)  # the default currency, a plain select
    assert 'data-role="select2-ajax"' in html  # the client: searched, a large table
    assert 'data-placeholder="Search client…"' in html


def test_lead_form_starts_with_default_status_and_assigned_to_me(app, admin_client):
    from crm.core.models.settings import Staff
    from crm.sales.models.clients import LeadStatus
    from tests.forms import form_of

    with app.app_context():
        db.session.add_all([LeadStatus(name="Contacted", statusorder=2),
                            LeadStatus(name="New", statusorder=1, isdefault=True)])
        db.session.commit()
        new_id = db.session.query(LeadStatus).filter_by(name="New").one().id
        me = db.session.query(Staff).filter_by(admin=True).first().staffid
    html = admin_client.get("/admin/leads/new/").get_data(as_text=True)
    data = form_of(html)
    assert data.get("status_rel") == str(new_id)
    assert data.get("assigned_staff") == str(me) or str(me) in [v for k, v in data.items() if "assign" in k]
    for internal in ("lost_reason", "from_form_id", "converted_from_lead", "leadorder", "date_converted"):
        assert f'name="{internal}"' not in html, internal


def test_every_create_form_renders(app, admin_client):
    Factory()  # the look-ups exist as a person would have them
    bad = []
    for view in generated_views(app):
        with app.app_context():
            pass
        if not view.can_create if False else False:
            continue
        resp = admin_client.get(f"{view.url}/new/")
        if resp.status_code not in (200, 302, 403, 404):
            bad.append((view.url, resp.status_code))
    assert not bad, bad
