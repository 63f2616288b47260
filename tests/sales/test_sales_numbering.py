"""Document numbers: the four formats, drafts, the counter, and no number given twice, even when
invoices are numbered at the same time."""
from __future__ import annotations

from datetime import date

import pytest

from crm.core.extensions import db
from tests.conftest import ADMIN_EMAIL, api_token, at_once
from tests.sales.test_sales_support import TODAY, api, base_data, get, make_client, make_invoice, press, set_option


@pytest.fixture
def ids(app):
    with app.app_context():
        ids = base_data()
        ids["client"] = make_client().userid
        return ids


def _draft(app, ids, **kw):
    from crm.sales.models.clients import Client

    with app.app_context():
        return make_invoice(ids, db.session.get(Client, ids["client"]), status=6, **kw).id


@pytest.mark.parametrize("fmt,expected", [(1, "INV-0007"), (2, "INV-2026/0007"), (3, "INV-0007-26"),
                                          (4, "INV-0007/03/2026")])
def test_formats(app, ctx, fmt, expected):
    from crm.core import options
    from crm.core.numbering import format_number

    options.set("number_padding_prefixes", 4)
    assert format_number("INV-", 7, fmt, date(2026, 3, 5)) == expected


def test_drafts_show_prefix_draft_and_take_the_next_number_when_issued(app, admin_client, ids):
    from crm.core import options
    from crm.core.numbering import shown
    from crm.sales.models.documents import Invoice

    first, second = _draft(app, ids), _draft(app, ids)
    with app.app_context():
        assert [shown(db.session.get(Invoice, i)) for i in (first, second)] == ["INV-DRAFT", "INV-DRAFT"]
        assert options.get("next_invoice_number") == 1  # a draft takes no number
    set_option(app, "invoice_number_format", 4)
    # the second draft is issued first: numbers follow issuing, not creation
    html = press(admin_client, "invoices", "issue", second).get_data(as_text=True)
    assert f"Invoice INV-000001/{TODAY:%m/%Y} issued" in html
    set_option(app, "invoice_number_format", 2)
    r = api(admin_client, api_token(admin_client), "invoices", first, "issue")
    assert r.get_json()["message"].startswith(f"Invoice INV-{TODAY:%Y}/000002 issued")
    inv = get(app, Invoice, first)
    assert (inv.number, inv.prefix, inv.number_format) == (2, "INV-", 2)
    with app.app_context():
        assert options.get("next_invoice_number") == 3


def test_a_draft_shows_prefix_draft_in_the_grid_the_details_and_the_api(app, admin_client, ids):
    import re

    def number_on(url):
        html = admin_client.get(url).get_data(as_text=True)
        cell = re.search(r'<td class="col-formatted_number">\s*([^<]*?)\s*<', html) or \
            re.search(r'<b>Number</b>\s*</td>\s*<td>\s*([^<]*?)\s*<', html)
        return cell.group(1) if cell else None

    h = api_token(admin_client)
    r = admin_client.post("/api/v1/invoices", headers=h, json={"clientid": ids["client"], "date": str(TODAY)})
    assert r.status_code == 201, r.get_json()
    draft = r.get_json()
    assert (draft["formatted_number"], draft["formatted_number_label"]) == (None, "INV-DRAFT")
    assert number_on("/admin/invoices/") == "INV-DRAFT"
    assert number_on(f"/admin/invoices/details/?id={draft['id']}") == "INV-DRAFT"
    assert api(admin_client, h, "invoices", draft["id"], "issue").status_code == 200
    issued = admin_client.get(f"/api/v1/invoices/{draft['id']}", headers=h).get_json()
    assert issued["formatted_number"] == issued["formatted_number_label"] == "INV-000001"
    assert number_on("/admin/invoices/") == "INV-000001"


def test_documents_entered_through_the_api_or_the_grid_form_are_drafts_numbered_by_their_actions(
        app, admin_client, ids):
    """An invoice or a proposal entered through the API or the grid's form is a draft (PREFIX +
    DRAFT, no number); asking for another status is refused and takes no number from the legal
    series; the actions (issue, send) give the next number."""
    from crm.core import options
    from crm.core.numbering import shown
    from crm.sales.models.documents import Invoice, Proposal
    from tests.conftest import csrf_from

    h = api_token(admin_client)

    def post(resource, **fields):
        r = admin_client.post(f"/api/v1/{resource}", headers=h, json=fields)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    r = admin_client.post("/api/v1/invoices", headers=h, json={"clientid": ids["client"], "date": str(TODAY),
                                                               "status": 1})
    assert r.status_code == 422 and r.get_json()["field"] == "status"
    draft = post("invoices", clientid=ids["client"], date=str(TODAY), duedate=str(TODAY),
                 items=[{"description": "Audit", "qty": "1", "rate": "100.00"}])
    assert draft["formatted_number"] is None and draft["status"] == 6
    with app.app_context():
        assert shown(db.session.get(Invoice, draft["id"])) == "INV-DRAFT"
        assert options.get("next_invoice_number") == 1
    page = admin_client.get("/admin/invoices/new/").get_data(as_text=True)
    assert 'name="status"' not in page
    r = admin_client.post("/admin/invoices/new/", data={
        "csrf_token": csrf_from(page), "client": str(ids["client"]), "date": f"{TODAY:%Y-%m-%d}",
        "duedate": f"{TODAY:%Y-%m-%d}", "currency": str(ids["ron"]), "status": "1"}, follow_redirects=True)
    assert r.status_code == 200
    with app.app_context():
        made = db.session.query(Invoice).order_by(Invoice.id.desc()).first()
        assert made.id != draft["id"] and made.status == 6 and made.number is None
    assert admin_client.post(f"/api/v1/invoices/{made.id}/actions/issue", headers=h).status_code == 200
    assert get(app, Invoice, made.id).formatted_number == "INV-000001"
    proposal = post("proposals", subject="Laptops", rel_type="customer", rel_id=ids["client"], date=str(TODAY))
    assert proposal["formatted_number"] is None
    r = admin_client.patch(f"/api/v1/proposals/{proposal['id']}", headers=h, json={"status": 4})
    assert r.status_code == 422 and "mark_sent" in r.get_json()["error"]
    r = admin_client.post(f"/api/v1/proposals/{proposal['id']}/actions/mark_sent", headers=h)
    assert r.status_code == 200, r.get_json()
    assert get(app, Proposal, proposal["id"]).formatted_number == "PRO-000001"


def test_a_counter_moved_back_never_repeats_a_number(app, ids):
    from crm.core import options
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice

    drafts = [_draft(app, ids) for _ in range(3)]
    with app.app_context():
        admin = db.session.query(Staff).filter_by(email=ADMIN_EMAIL).one()
        run(Invoice, drafts[0], "issue", admin)
        run(Invoice, drafts[1], "issue", admin)
        options.set("next_invoice_number", 1)  # an admin resets the counter by mistake
        db.session.commit()
        run(Invoice, drafts[2], "issue", admin)
        assert db.session.get(Invoice, drafts[2]).formatted_number == "INV-000003"
        assert options.get("next_invoice_number") == 4


def test_each_series_has_its_own_counter(app, ids):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Proposal
    from tests.sales.test_sales_support import make_estimate, make_proposal

    with app.app_context():
        client = db.session.get(Client, ids["client"])
        assert make_proposal(ids, client).formatted_number == "PRO-000001"
        assert make_estimate(ids, client).formatted_number == "EST-000001"
        assert make_invoice(ids, client).formatted_number == "INV-000001"
        assert make_proposal(ids, client).formatted_number == "PRO-000002"
        assert db.session.query(Proposal).count() == 2


@pytest.mark.parametrize("counter_row", [False, True], ids=["first-number", "counter-exists"])
def test_concurrent_issuing_never_shares_a_number(app, ids, counter_row):
    from crm.core import options
    from crm.core.models.settings import Staff
    from crm.core.registry import run
    from crm.sales.models.documents import Invoice

    if counter_row:
        set_option(app, "next_invoice_number", 41)
    n = 8
    drafts = [_draft(app, ids) for _ in range(n)]

    def issue(inv_id, ready):
        admin = db.session.query(Staff).filter_by(email=ADMIN_EMAIL).one()
        ready()
        return run(Invoice, inv_id, "issue", admin)

    _, errors = at_once(app, issue, drafts)
    assert not errors, errors
    first = 41 if counter_row else 1
    with app.app_context():
        numbers = sorted(db.session.get(Invoice, i).number for i in drafts)
        assert numbers == list(range(first, first + n))
        assert len({db.session.get(Invoice, i).formatted_number for i in drafts}) == n
        assert options.get("next_invoice_number") == first + n


def test_concurrent_counter_takes_are_serialised(app):
    """The counter itself, without the duplicate check of assign(): the lock alone keeps
    transactions that read it at the same time from taking the same number."""
    import time

    from crm.core.numbering import take_next

    set_option(app, "next_estimate_number", 1)
    n = 6

    def take(_, ready):
        ready()
        number = take_next("next_estimate_number")
        time.sleep(0.05)  # hold the transaction open while the others try
        db.session.commit()
        return number

    taken, errors = at_once(app, take, range(n))
    taken = list(taken.values())
    assert not errors, errors
    assert sorted(taken) == list(range(1, n + 1))
