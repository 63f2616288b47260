"""Physical inventory (stock take): a count created on its screen, filled from the book balances,
printed / downloaded as a count sheet, counted on the screen and by uploading the filled sheet,
and approved: the differences posted to stock by a loss & adjustment (ledger status 3)."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from sqlalchemy import select

from crm.core.extensions import db
from tests.conftest import api_token, csrf_from
from tests.core.test_pdf_documents import pdf_text
from tests.forms import form_of
from tests.warehouse import warehouse_support as ws

BASE = "/admin/warehouse/physical_inventory"


def _stock():
    """A warehouse with two lots of a pallet jack and one of a rack (group Racking), and an item
    in another group; returns the ids."""
    from crm.catalog.models import Item, ItemGroup

    wh = ws.warehouse()
    jack = ws.item("P-100", "Pallet jack")
    rack = ws.item("R-200", "Shelf rack")
    bolt = ws.item("B-300", "Bolt box")
    racking, small = ItemGroup(name="Racking"), ItemGroup(name="Hardware")
    db.session.add_all([racking, small])
    db.session.flush()
    db.session.get(Item, rack).group_id = racking.id
    db.session.get(Item, bolt).group_id = small.id
    db.session.commit()
    ws.receipt(wh, [(jack, "10", "L1", None, "60.00"), (jack, "5", "L2", None, "62.50"),
                    (rack, "8", None, None, "12.40"), (bolt, "100", "B1", None, "0.35")], approve=True)
    return {"wh": wh, "jack": jack, "rack": rack, "bolt": bolt}


def _create(client, wh, note="Year-end count") -> int:
    from crm.warehouse.models import PhysicalInventory

    page = client.get(f"{BASE}/new/").get_data(as_text=True)
    r = client.post(f"{BASE}/new/", data={"csrf_token": csrf_from(page), "warehouse": str(wh),
                                          "date": "2026-11-23", "note": note})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    return db.session.execute(select(PhysicalInventory.id).where(PhysicalInventory.note == note)).scalar_one()


def _action(client, count_id, name, **data):
    """Press an action's button (its parameters' form first, as a person does)."""
    page = client.get(f"{BASE}/run-action/{name}/{count_id}").get_data(as_text=True)
    return client.post(f"{BASE}/run-action/{name}/{count_id}?url={BASE}/details/?id={count_id}",
                       data={"csrf_token": csrf_from(page), **data}, content_type="multipart/form-data")


def _flashes(client, count_id) -> str:
    return client.get(f"{BASE}/details/?id={count_id}").get_data(as_text=True)


def _count(count_id):
    from crm.warehouse.models import PhysicalInventory

    db.session.expire_all()
    return db.session.get(PhysicalInventory, count_id)


def _lines(count_id) -> dict:
    """{(item code, lot): line} of a count."""
    return {(ln.commodity.commodity_code, ln.lot_number): ln for ln in _count(count_id).items}


def _balance(item_id, lot) -> Decimal:
    return ws.lots(item_id)[lot]


def _xlsx(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content))


def _upload(client, count_id, wb, name="counted.xlsx"):
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return _action(client, count_id, "upload_counts", file=(out, name))


def test_stock_take_from_count_sheet_to_posted_differences(app, admin_client, ctx):
    from crm.warehouse.models import LossAdjustment, StockTransaction

    ids = _stock()
    count_id = _create(admin_client, ids["wh"])
    assert _action(admin_client, count_id, "fill", item_group="Racking").status_code == 302
    assert set(_lines(count_id)) == {("R-200", None)}
    r = _action(admin_client, count_id, "fill", items="P-100")  # filling again adds the lots asked
    assert r.status_code == 302
    count = _count(count_id)
    assert count.code == "PI000001"
    lines = _lines(count_id)
    assert {k: ln.book_quantity for k, ln in lines.items()} == {
        ("R-200", None): Decimal("8"), ("P-100", "L1"): Decimal("10"), ("P-100", "L2"): Decimal("5")}
    assert all(ln.counted_quantity is None for ln in lines.values())

    # The printed sheet: every lot with its book quantity, a blank Counted column, signatures.
    r = admin_client.get(f"/admin/documents/count_sheet/{count_id}.pdf")
    assert r.status_code == 200 and "count-sheet-PI000001.pdf" in r.headers["Content-Disposition"]
    text = pdf_text(r.data)
    assert "Inventory count sheet" in text and "PI000001" in text and "Main warehouse" in text
    jack_rows = [ln for ln in text.splitlines() if "Pallet jack" in ln]
    assert len(jack_rows) == 2 and re.search(r"L1\s+10\s*$", jack_rows[0]) and re.search(r"L2\s+5\s*$", jack_rows[1])
    assert "Counted by" in text and "Checked by" in text

    # Stock moves after the book quantities were frozen: 4 more pallet jacks arrive in lot L1.
    ws.receipt(ids["wh"], [(ids["jack"], "4", "L1", None, "60.00")], approve=True)
    assert _balance(ids["jack"], "L1") == Decimal("14")

    # The Excel sheet, filled with a typo and a line that is not on the count: refused whole.
    r = admin_client.get(f"{BASE}/{count_id}/count_sheet.xlsx")
    assert r.status_code == 200
    wb = _xlsx(r.data)
    sheet = wb.active
    header = [c.value for c in sheet[4]]
    assert header == ["Line ID", "Item code", "Item", "Unit", "Lot", "Expiry", "Book quantity", "Counted"]
    rows = {(sheet.cell(i, 2).value, sheet.cell(i, 5).value): i for i in range(5, 8)}
    rows = {(code, lot or None): i for (code, lot), i in rows.items()}
    sheet.cell(rows[("P-100", "L1")], 8).value = "eight"
    sheet.cell(rows[("R-200", None)], 8).value = 9.5
    sheet.cell(9, 1).value, sheet.cell(9, 8).value = 99999, 3
    r = _upload(admin_client, count_id, wb)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert f"Row {rows[('P-100', 'L1')]}, column H (Counted): &#39;eight&#39; is not a number" in page
    assert "Row 9, column A (Line ID): &#39;99999&#39; is not a line of PI000001" in page
    assert all(ln.counted_quantity is None for ln in _lines(count_id).values())  # nothing half-written

    sheet.cell(rows[("P-100", "L1")], 8).value = 8
    sheet.cell(9, 1).value = sheet.cell(9, 8).value = None
    assert _upload(admin_client, count_id, wb).status_code == 302
    lines = _lines(count_id)
    assert lines[("P-100", "L1")].counted_quantity == Decimal("8")
    assert lines[("P-100", "L1")].difference == Decimal("-2")
    assert lines[("R-200", None)].counted_quantity == Decimal("9.5")
    assert lines[("P-100", "L2")].counted_quantity is None

    # Approval refuses while a line is not counted, naming it (API, as a scanner app would call it).
    headers = api_token(admin_client)
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/approve", json={}, headers=headers)
    assert r.status_code == 409
    assert "1 line(s) of PI000001 are not counted: line 3 (P-100 Pallet jack, lot L2)" in r.get_json()["error"]
    page = _flashes(admin_client, count_id)
    assert "1 line(s) not counted: #3" in page

    # The last count typed on the count's page; a bad value there saves nothing either.
    l2 = lines[("P-100", "L2")].id
    token = csrf_from(page)
    r = admin_client.post(f"{BASE}/{count_id}/counts", data={"csrf_token": token, f"counted-{l2}": "-1"},
                          follow_redirects=True)
    assert "Line 3 (P-100 Pallet jack, lot L2): a count is zero or more" in r.get_data(as_text=True)
    assert _lines(count_id)[("P-100", "L2")].counted_quantity is None
    admin_client.post(f"{BASE}/{count_id}/counts", data={"csrf_token": token, f"counted-{l2}": "6"})
    assert _lines(count_id)[("P-100", "L2")].counted_quantity == Decimal("6")

    # The variance report: counted - book, valued at each lot's purchase price.
    page = _flashes(admin_client, count_id)
    values = re.findall(r'data-testid="value">([^<]*)<', page)
    assert values == ["18.60", "-120.00", "62.50"]  # rack +1.5 x 12.40, L1 -2 x 60.00, L2 +1 x 62.50
    assert re.search(r'data-testid="gain">81.10<', page) and re.search(r'data-testid="loss">-120.00<', page)
    assert re.search(r'data-testid="net"><strong>-38.90<', page)

    assert _action(admin_client, count_id, "approve").status_code == 302
    count = _count(count_id)
    assert count.status == 1 and count.loss_adjustment_id is not None
    # L1 was counted 2 short of the 10 booked; the 4 received since stay: 14 - 2, not "set to 8".
    assert _balance(ids["jack"], "L1") == Decimal("12")
    assert _balance(ids["jack"], "L2") == Decimal("6")
    assert ws.lots(ids["rack"])[None] == Decimal("9.5")
    assert _balance(ids["bolt"], "B1") == Decimal("100")  # not on the count
    adjustment = db.session.get(LossAdjustment, count.loss_adjustment_id)
    assert adjustment.status == 1 and adjustment.reason == "Physical inventory PI000001"
    posted = db.session.execute(select(StockTransaction.lot_number, StockTransaction.old_quantity,
                                       StockTransaction.quantity)
                                .where(StockTransaction.rel_type == "loss_adjustment",
                                       StockTransaction.goods_receipt_id == adjustment.id,
                                       StockTransaction.status == 3)
                                .order_by(StockTransaction.id)).all()
    assert [(lot, Decimal(old), Decimal(q)) for lot, old, q in posted] == [
        (None, Decimal("8"), Decimal("1.5")), ("L1", Decimal("14"), Decimal("-2")), ("L2", Decimal("5"), Decimal("1"))]
    ws.ledger_matches_balances()

    # A settled count keeps its lines as approved.
    l1 = _lines(count_id)[("P-100", "L1")].id
    r = admin_client.patch(f"/api/v1/wh_physical_inventory_detail/{l1}", json={"counted_quantity": "9"},
                           headers=headers)
    assert r.status_code == 422 and "cannot change" in r.get_json()["error"]
    assert _lines(count_id)[("P-100", "L1")].counted_quantity == Decimal("8")
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/approve", json={}, headers=headers)
    assert r.status_code == 409 and "Approved" in r.get_json()["error"]


def test_skipped_lines_keep_their_stock_and_a_count_without_differences_posts_nothing(app, admin_client, ctx):
    ids = _stock()
    headers = api_token(admin_client)
    r = admin_client.post("/api/v1/wh_physical_inventory", json={"warehouse_id": ids["wh"], "note": "Spot check"},
                          headers=headers)
    assert r.status_code == 201, r.get_json()
    count_id = r.get_json()["id"]
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/fill", json={"item_group": "Tools"},
                          headers=headers)
    assert r.status_code == 422 and "There is no item group 'Tools'" in r.get_json()["error"]  # the field refuses it
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/fill", json={"items": "P-100,B-300"},
                          headers=headers)
    assert r.status_code == 200 and "3 line(s)" in r.get_json()["message"]
    lines = _lines(count_id)
    for key, counted in ((("P-100", "L1"), "10"), (("B-300", "B1"), "97")):
        r = admin_client.patch(f"/api/v1/wh_physical_inventory_detail/{lines[key].id}",
                               json={"counted_quantity": counted}, headers=headers)
        assert r.status_code == 200, r.get_json()
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/approve",
                          json={"skip_uncounted": False}, headers=headers)
    assert r.status_code == 409 and "lot L2" in r.get_json()["error"]
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/approve",
                          json={"skip_uncounted": True}, headers=headers)
    assert r.status_code == 200, r.get_json()
    assert _balance(ids["jack"], "L1") == Decimal("10") and _balance(ids["jack"], "L2") == Decimal("5")
    assert _balance(ids["bolt"], "B1") == Decimal("97")
    ws.ledger_matches_balances()

    # Everything counted as booked: approved, nothing posted, no adjustment document.
    count_id = _create(admin_client, ids["wh"], note="Racks")
    _action(admin_client, count_id, "fill", item_group="racking")
    line = _lines(count_id)[("R-200", None)]
    admin_client.post(f"{BASE}/{count_id}/counts", data={"csrf_token": csrf_from(_flashes(admin_client, count_id)),
                                                        f"counted-{line.id}": "8"})
    r = _action(admin_client, count_id, "approve")
    assert "no differences to post" in _flashes(admin_client, count_id)
    count = _count(count_id)
    assert count.status == 1 and count.loss_adjustment_id is None and count.code == "PI000002"


def test_a_difference_that_would_take_a_lot_below_zero_is_refused(app, admin_client, ctx, admin):
    from crm.core.registry import run
    from crm.warehouse.models import LossAdjustment, LossAdjustmentDetail

    ids = _stock()
    count_id = _create(admin_client, ids["wh"])
    _action(admin_client, count_id, "fill", items="P-100")
    lines = _lines(count_id)
    token = csrf_from(_flashes(admin_client, count_id))
    admin_client.post(f"{BASE}/{count_id}/counts", data={
        "csrf_token": token, f"counted-{lines[('P-100', 'L1')].id}": "3", f"counted-{lines[('P-100', 'L2')].id}": "5"})
    # Meanwhile 8 of lot L1 are written off: 2 left, and the count found 7 fewer than the 10 booked.
    loss = LossAdjustment(type="loss", warehouses=ids["wh"], reason="Damaged")
    loss.items.append(LossAdjustmentDetail(items=ids["jack"], lot_number="L1", updates_number=Decimal("2")))
    db.session.add(loss)
    db.session.commit()
    run(LossAdjustment, loss.id, "approve", admin)
    r = _action(admin_client, count_id, "approve")
    assert r.status_code == 409  # the approval form again, with the refusal
    page = r.get_data(as_text=True)
    assert ("Line 1 (P-100 Pallet jack, lot L1): counted 3 against 10 booked (-7), but the lot now holds 2 "
            "after later movements; posting the difference would take it below zero.") in page
    assert _count(count_id).status == 0 and _count(count_id).loss_adjustment_id is None
    assert _balance(ids["jack"], "L1") == Decimal("2") and _balance(ids["jack"], "L2") == Decimal("5")
    ws.ledger_matches_balances()


def test_count_sheet_csv_round_trip_and_unreadable_upload(app, admin_client, ctx):
    ids = _stock()
    count_id = _create(admin_client, ids["wh"])
    _action(admin_client, count_id, "fill")
    r = admin_client.get(f"{BASE}/{count_id}/count_sheet.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = r.get_data(as_text=True).splitlines()
    assert rows[0] == "Line ID,Item code,Item,Unit,Lot,Expiry,Book quantity,Counted"
    assert len(rows) == 5 and any(",B1,,100," in row for row in rows)
    table = list(csv.reader(rows))
    for row in table[1:]:
        if row[4] == "L2":
            row[7] = "4,5"  # a comma-decimal spreadsheet
    out = io.StringIO()
    csv.writer(out).writerows(table)
    filled = out.getvalue()
    r = _action(admin_client, count_id, "upload_counts", file=(io.BytesIO(filled.encode()), "sheet.csv"))
    assert r.status_code == 302
    assert _lines(count_id)[("P-100", "L2")].counted_quantity == Decimal("4.5")
    r = _action(admin_client, count_id, "upload_counts", file=(io.BytesIO(b"not a workbook"), "sheet.xlsx"))
    assert r.status_code == 422 and "cannot be read as .xlsx" in r.get_data(as_text=True)
    r = _action(admin_client, count_id, "upload_counts", file=(io.BytesIO(b"x"), "sheet.pdf"))
    assert r.status_code == 422 and "is not a count sheet" in r.get_data(as_text=True)


def test_counts_entered_in_the_count_form_lines(app, admin_client, ctx):
    """The count's edit form lists its lines; a count typed there is saved with its difference."""
    ids = _stock()
    count_id = _create(admin_client, ids["wh"])
    _action(admin_client, count_id, "fill", items="B-300")
    line = _lines(count_id)[("B-300", "B1")]
    fields = form_of(admin_client.get(f"{BASE}/edit/?id={count_id}").get_data(as_text=True))
    assert fields["items-0-id"] == str(line.id) and fields["items-0-book_quantity"] == "100.000"
    fields.update({"items-0-counted_quantity": "96", "items-0-difference": "0"})  # the shown difference, stale
    r = admin_client.post(f"{BASE}/edit/?id={count_id}", data=fields)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    line = _lines(count_id)[("B-300", "B1")]
    assert (line.counted_quantity, line.difference, line.book_quantity) == (Decimal("96"), Decimal("-4"), Decimal("100"))
    assert _count(count_id).warehouse_id == ids["wh"]
    page = _flashes(admin_client, count_id)
    assert re.findall(r'data-testid="value">([^<]*)<', page) == ["-1.40"]  # -4 x 0.35

    fields["items-0-counted_quantity"] = "-3"
    r = admin_client.post(f"{BASE}/edit/?id={count_id}", data=fields, follow_redirects=True)
    assert "a counted quantity cannot be negative" in r.get_data(as_text=True)
    assert _lines(count_id)[("B-300", "B1")].counted_quantity == Decimal("96")


def test_the_stock_keeper_is_told_when_their_count_is_approved(app, admin_client, ctx):
    from crm.notifications.models import Notification
    from tests.conftest import make_staff

    ids = _stock()
    keeper = make_staff("keeper@test.example", "Warehouse").staffid
    mine = api_token(app.test_client(), "keeper@test.example", "pass-1234")
    r = admin_client.post("/api/v1/wh_physical_inventory", json={"warehouse_id": ids["wh"], "note": "Rack aisle"},
                          headers=mine)
    assert r.status_code == 201, r.get_json()
    count_id = r.get_json()["id"]
    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/fill", json={"items": "R-200"},
                          headers=mine)
    assert r.status_code == 200, r.get_json()
    line = _lines(count_id)[("R-200", None)]
    assert admin_client.patch(f"/api/v1/wh_physical_inventory_detail/{line.id}", json={"counted_quantity": "7"},
                              headers=mine).status_code == 200

    r = admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/approve", json={},
                          headers=api_token(admin_client))

    assert r.status_code == 200, r.get_json()
    db.session.expire_all()
    [note] = db.session.query(Notification).filter_by(touserid=keeper).all()
    assert note.description == f"Stock take {_count(count_id).code} was approved and its differences posted"


def test_fill_picks_the_group_and_items_by_name(app, admin_client, ctx):
    """The fill form offers the item groups and the items by name (no ids or codes typed); what is
    picked is what is filled."""
    from werkzeug.datastructures import MultiDict

    ids = _stock()
    count_id = _create(admin_client, ids["wh"])
    page = admin_client.get(f"{BASE}/run-action/fill/{count_id}").get_data(as_text=True)
    group = re.search(r'<select[^>]*name="item_group"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert ">Racking<" in group and ">Hardware<" in group and ">Choose…<" in group
    items = re.search(r'<select multiple name="items"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "Pallet jack" in items and "Bolt box" in items
    assert "comma-separated" not in page and "name or id" not in page
    r = admin_client.post(f"{BASE}/run-action/fill/{count_id}?url={BASE}/details/?id={count_id}",
                          data=MultiDict([("csrf_token", csrf_from(page)), ("item_group", ""),
                                          ("items", str(ids["jack"])), ("items", str(ids["bolt"]))]))
    assert r.status_code == 302
    assert set(_lines(count_id)) == {("P-100", "L1"), ("P-100", "L2"), ("B-300", "B1")}
    r = admin_client.post(f"{BASE}/run-action/fill/{count_id}", data={"csrf_token": csrf_from(page), "items": "999999"})
    assert r.status_code == 422 and "There is no items #999999" in r.get_data(as_text=True)


def test_a_lines_book_quantity_is_the_books_never_entered(app, admin_client, ctx):
    """A count's lines take their counts one by one (the line's own door), but what the books held
    when the lines were filled, and the lot a line counts, are the fill's: a book quantity sent lower
    than the books would post the gap to stock as found goods at approval."""
    ids = _stock()
    headers = api_token(admin_client)
    count_id = admin_client.post("/api/v1/wh_physical_inventory", json={"warehouse_id": ids["wh"]},
                                 headers=headers).get_json()["id"]
    assert admin_client.post(f"/api/v1/wh_physical_inventory/{count_id}/actions/fill", json={"items": "P-100"},
                             headers=headers).status_code == 200
    line = _lines(count_id)[("P-100", "L1")]
    line_id, other_lot = line.id, _lines(count_id)[("P-100", "L2")].inventory_manage_id
    for payload, field in (({"counted_quantity": "10", "book_quantity": "0"}, "book_quantity"),
                           ({"inventory_manage_id": other_lot}, "inventory_manage_id")):
        r = admin_client.patch(f"/api/v1/wh_physical_inventory_detail/{line_id}", json=payload, headers=headers)
        assert r.status_code == 422 and r.get_json()["field"] == field, r.get_json()
    r = admin_client.patch(f"/api/v1/wh_physical_inventory/{count_id}", headers=headers, json={
        "items": [{"item": ids["jack"], "lot_number": "L9", "book_quantity": "-50", "counted_quantity": "0"}]})
    assert r.status_code == 422 and r.get_json()["field"] == "items.0.book_quantity", r.get_json()
    # the grid's line form does not offer them
    page = admin_client.get(f"/admin/wh_physical_inventory_detail/edit/?id={line_id}").get_data(as_text=True)
    assert 'name="book_quantity"' not in page and 'name="inventory_manage_id"' not in page
    line = _lines(count_id)[("P-100", "L1")]
    assert (line.book_quantity, line.counted_quantity, line.inventory_manage_id) == (Decimal("10"), None, line.inventory_manage_id)
    # the count itself still goes through its line's door
    r = admin_client.patch(f"/api/v1/wh_physical_inventory_detail/{line_id}", json={"counted_quantity": "9"},
                           headers=headers)
    assert r.status_code == 200 and r.get_json()["book_quantity"] == "10.000", r.get_json()
