"""A grid filter whose value its column cannot take (text on a money, quantity, whole-number or
date column; a date Flask-Admin's filter cannot read) is a 400 that names the filter, on every
generated grid, whether written ``?total=abc`` or as Flask-Admin's ``?flt0_<name>=abc``; sorting
and paging arguments typed by hand never fail either."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from crm.core.extensions import db
from crm.core.resources import columns
from tests.admin_views.test_admin_generated import generated_views

TYPED = (int, Decimal, float, date, datetime, time)  # bool takes any text (yes/no), text columns any text


def _typed_columns(model):
    for c in columns(model):
        try:
            kind = c.type.python_type
        except NotImplementedError:
            continue
        if kind in TYPED:
            yield c.key


def _takes_text(flt) -> bool:
    """A filter for which "abc" is a fair value (a linked record's name)."""
    return flt.validate("abc") and not flt.options


def _arg(app, name, operation, endpoint="invoices") -> str:
    """The ``flt<n>_<arg>`` part Flask-Admin gives the invoices grid's filter ``name operation``."""
    [v] = [v for v in generated_views(app) if v.endpoint == endpoint]
    return next(k for k, (_, f) in v._filter_args.items() if (f.name, str(f.operation())) == (name, operation))


def test_text_on_a_number_or_date_column_is_a_400_naming_the_filter_on_every_grid(app, admin_client):
    wrong, walked = [], 0
    for v in generated_views(app):
        for key in _typed_columns(v.model):
            r = admin_client.get(f"{v.url}/?{key}=abc")
            walked += 1
            if r.status_code != 400 or f"Filter “{key}”" not in r.get_data(as_text=True):
                wrong.append((f"{v.url}/?{key}=abc", r.status_code))
    assert walked > 600 and not wrong, wrong  # money, quantities, ids, statuses and dates of ~90 grids


def test_flask_admin_filters_refuse_values_they_cannot_take_naming_the_filter(app, admin_client):
    wrong, walked = [], 0
    for v in generated_views(app):
        for key, (_, flt) in (v._filter_args or {}).items():
            if _takes_text(flt):
                continue
            url = f"{v.url}/?flt0_{key}=abc"
            r = admin_client.get(url)
            walked += 1
            html = r.get_data(as_text=True)
            if r.status_code != 400 or f"“{flt.name} {flt.operation()}” (flt0_{key})" not in html:
                wrong.append((url, r.status_code))
    assert walked > 800 and not wrong, wrong[:20]
    # what the filter takes is said
    r = admin_client.get(f"/admin/invoices/?flt1_{_arg(app, 'Date', 'equals')}=31.12.2026")
    assert r.status_code == 400 and "a date as YYYY-MM-DD" in r.get_data(as_text=True)
    r = admin_client.get(f"/admin/invoices/list_invoices?flt0_{_arg(app, 'Status', 'equals')}=9")
    assert r.status_code == 400 and "it takes one of 6 (Draft), 1 (Unpaid)," in r.get_data(as_text=True)


def test_hand_typed_sort_page_and_search_never_fail(app, admin_client):
    wrong = []
    for v in generated_views(app):
        for q in ("sort=abc", "sort=999", "sort=-1", "desc=abc", "page=abc", "page_size=abc",
                  "page_size=-5", "search=%25", "sort=1&desc=1"):
            r = admin_client.get(f"{v.url}/?{q}")
            if r.status_code != 200:
                wrong.append((f"{v.url}/?{q}", r.status_code))
        r = admin_client.get(f"{v.url}/?page=-1")  # a negative offset: refused alike on every database
        if r.status_code != 400 or "page: there is no such page" not in r.get_data(as_text=True):
            wrong.append((f"{v.url}/?page=-1", r.status_code))
    assert not wrong, wrong


def test_good_values_still_filter_and_the_export_refuses_the_same(app, admin_client):
    from crm.sales.models.clients import Client
    from crm.sales.models.documents import Invoice

    with app.app_context():
        c = Client(company="Acme SRL")
        db.session.add(c)
        db.session.flush()
        for n, (when, total) in enumerate(((date(2026, 10, 1), "100.00"), (date(2026, 11, 1), "-12.50")), 1):
            db.session.add(Invoice(clientid=c.userid, number=n, prefix="INV-", formatted_number=f"INV-{n:06d}",
                                   date=when, duedate=when, status=1, total=Decimal(total),
                                   subtotal=Decimal(total), total_tax=Decimal("0")))
        db.session.commit()

    def listed(url):
        r = admin_client.get(url)
        assert r.status_code == 200, (url, r.status_code)
        html = r.get_data(as_text=True)
        return [n for n in ("INV-000001", "INV-000002") if n in html]

    assert listed("/admin/invoices/?total=-12.50") == ["INV-000002"]
    assert listed("/admin/invoices/?date=2026-10-01") == ["INV-000001"]
    assert listed(f"/admin/invoices/?flt1_{_arg(app, 'Date', 'equals')}=2026-11-01") == ["INV-000002"]
    assert listed("/admin/invoices/?total=100&total=-12.5") == ["INV-000001", "INV-000002"]
    r = admin_client.get("/admin/invoices/?total=100&total=abc")
    assert r.status_code == 400 and "Filter “total”" in r.get_data(as_text=True)
    r = admin_client.get("/admin/invoices/export/csv/?total=abc")
    assert r.status_code == 400 and "it takes a number" in r.get_data(as_text=True)
    r = admin_client.get("/admin/invoices/?total=NaN")  # no column holds NaN
    assert r.status_code == 400 and "Filter “total”" in r.get_data(as_text=True)
    # a number past what the column holds: no match (SQLite), or the database's refusal as a 400
    assert admin_client.get("/admin/invoices/?total=1e999999").status_code in (200, 400)
