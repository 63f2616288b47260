"""The generated forms as a person fills them: a list of ids chosen by name (stored as the same list),
the lines titled once, rarely used fields folded under "More", and the addresses of the client just
picked filled into the empty address fields."""
from __future__ import annotations

import json
import re

from werkzeug.datastructures import MultiDict

from crm.core.extensions import db
from tests.forms import form_of
from tests.sales.test_sales_support import base_data, make_client, make_invoice


def _section_html(html: str, title: str) -> str:
    start = html.index(f'data-testid="form-section-title">{title}<')
    return html[start:html.index("</fieldset>" if "<fieldset" in html[start - 200:start] else "</details>", start)]


def test_allowed_payment_modes_is_a_choice_of_names_saved_as_the_same_json_list(app, admin_client):
    from crm.sales.models.documents import Invoice

    with app.app_context():
        ids = base_data()
        client = make_client()
        inv = make_invoice(ids, client, allowed_payment_modes=json.dumps([ids["cash"], "stripe"]))
        inv_id, bank, cash = inv.id, ids["bank"], ids["cash"]
    html = admin_client.get(f"/admin/invoices/edit/?id={inv_id}").get_data(as_text=True)
    select = re.search(r'<select multiple name="allowed_payment_modes"[^>]*>(.*?)</select>', html, re.S)
    assert select, "allowed payment modes is a multiple select"
    options = dict((v, (t, bool(s))) for v, s, t in re.findall(r'<option value="(\d+)"( selected)?>([^<]*)<', select.group(1)))
    assert options[str(bank)] == ("Bank transfer", False) and options[str(cash)] == ("Cash", True)
    assert '<textarea' not in html.split('name="allowed_payment_modes"')[0][-300:]
    data = form_of(html)
    data.pop("allowed_payment_modes", None)
    posted = [(k, v) for k, v in data.items()] + [("allowed_payment_modes", str(bank)), ("allowed_payment_modes", str(cash))]
    r = admin_client.post(f"/admin/invoices/edit/?id={inv_id}", data=MultiDict(posted))
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with app.app_context():
        # Perfex's gateway id, not a payment mode row, is kept as it was
        assert json.loads(db.session.get(Invoice, inv_id).allowed_payment_modes) == [bank, cash, "stripe"]
    # an id that is no payment mode is refused on the field
    posted = [(k, v) for k, v in data.items()] + [("allowed_payment_modes", "999")]
    r = admin_client.post(f"/admin/invoices/edit/?id={inv_id}", data=MultiDict(posted))
    assert r.status_code == 422 and "There is no allowed payment modes #999" in r.get_data(as_text=True)


def test_rfq_vendors_chosen_by_name_stay_comma_separated(app, admin_client):
    from crm.purchasing.models import PurchaseRequest, Vendor

    with app.app_context():
        a, b = Vendor(company="Bolt Trading", active=True), Vendor(company="Metal Supply", active=True)
        db.session.add_all([a, b])
        db.session.commit()
        a_id, b_id = a.userid, b.userid
    html = admin_client.get("/admin/purchase/purchase_request/new/").get_data(as_text=True)
    assert '<select multiple name="send_to_vendors"' in html and ">Bolt Trading<" in html
    data = form_of(html)
    data.pop("send_to_vendors", None)
    data["pur_rq_name"] = "Steel for Q3"
    r = admin_client.post("/admin/purchase/purchase_request/new/",
                          data=MultiDict(list(data.items()) + [("send_to_vendors", str(b_id)),
                                                                ("send_to_vendors", str(a_id))]))
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    with app.app_context():
        rq = db.session.query(PurchaseRequest).filter_by(pur_rq_name="Steel for Q3").one()
        assert rq.send_to_vendors == f"{b_id},{a_id}"


def test_lines_titled_once_and_rare_fields_folded_under_more(app, admin_client):
    with app.app_context():
        base_data()
    html = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
    titles = re.findall(r'data-testid="form-section-title">([^<]+)<', html)
    assert titles.count("Lines") == 1
    lines = html[html.index('data-testid="form-section-title">Lines<'):]
    lines = lines[:lines.index("</fieldset>")]
    assert "<label" not in lines  # the section's title is the lines' only title
    assert "More" in titles and titles.index("Details") < titles.index("Lines") < titles.index("More") < titles.index("Notes")
    folded = html[html.index('data-testid="form-section-folded"'):]
    folded = folded[:folded.index("</details>")]
    for rare in ("recurring", "recurring_type", "custom_recurring", "cycles", "show_quantity_as"):
        assert f'name="{rare}"' in folded, rare
    details = html[html.index('data-testid="form-section-title">Details<'):]
    details = details[:details.index("</fieldset>")]
    assert 'name="recurring"' not in details and 'name="allowed_payment_modes"' in details


def test_picking_a_client_fills_the_empty_address_fields(app, admin_client):
    with app.app_context():
        base_data()
        client = make_client()
        other = make_client(company="Hidden SRL", email="h@h.ro")
        client_id, other_id = client.userid, other.userid
    html = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
    field = re.search(r'<input[^>]*name="client"[^>]*>', html).group(0)
    assert 'hx-get="/admin/invoices/client-address"' in field and "hx-include" in field
    empty = {f"{k}_{p}": "" for k in ("billing", "shipping") for p in ("street", "city", "state", "zip", "country")}
    r = admin_client.get("/admin/invoices/client-address", query_string={"client": client_id, **empty})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert re.search(r'<input[^>]*hx-swap-oob="true"[^>]*id="billing_street"|<input[^>]*id="billing_street"[^>]*hx-swap-oob', body)
    assert 'value="Str. Lunga 1"' in body and 'value="Depozit 7"' in body and 'value="Codlea"' in body
    assert re.search(r'<input[^>]*checked[^>]*id="include_shipping"|<input[^>]*id="include_shipping"[^>]*checked', body)
    # a block a person already typed is left alone
    typed = {**empty, "billing_street": "Str. Alta 9"}
    body = admin_client.get("/admin/invoices/client-address",
                            query_string={"client": client_id, **typed}).get_data(as_text=True)
    assert "Str. Lunga 1" not in body and "Depozit 7" in body
    assert admin_client.get("/admin/invoices/client-address", query_string={"client": ""}).status_code == 204
    # signed out: the login page, not an address
    anon = app.test_client()
    r = anon.get("/admin/invoices/client-address", query_string={"client": other_id})
    assert r.status_code in (302, 401, 403) and "Depozit" not in r.get_data(as_text=True)
