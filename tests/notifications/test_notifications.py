"""Staff notifications: the rule table turns events into a notification for the document's staff
member (never the one who acted) and an email through the outbox; the bell, the list, mark read."""
from __future__ import annotations

import re
from datetime import timedelta

from crm.core.extensions import db
from tests.conftest import QueryCounter, api_token, csrf_from, login
from tests.sales.test_portal import SIGNER, _portal_env, docs, opened, outbox, png_data_url, post_form  # noqa: F401
from tests.sales.test_sales_support import TODAY, base_data, make_client, make_invoice, press

AGENT = "agent@test.example"


def notes(app, email=AGENT):
    from crm.core.models.settings import Staff
    from crm.notifications.models import Notification

    with app.app_context():
        staff = db.session.query(Staff).filter_by(email=email).one()
        rows = (db.session.query(Notification).filter_by(touserid=staff.staffid)
                .order_by(Notification.id).all())
        for r in rows:
            db.session.expunge(r)
        return rows


def agent_client(app):
    c = app.test_client()
    login(c, AGENT, "pass-1234")
    return c


def bell(page: str) -> int:
    return int(re.search(r'data-testid="unread-count">(\d+)<', page).group(1))


def test_client_accepting_in_the_portal_notifies_the_assigned_staff(app, client, docs):
    resp = post_form(client, docs["urls"]["proposal"], {"_action": "accept", **SIGNER,
                                                          "signature": png_data_url()})
    assert resp.status_code == 302
    viewed, accepted = notes(app)
    assert viewed.description == "The client opened proposal PRO-000007 in the client portal"
    assert accepted.description == "Ion Popescu accepted proposal PRO-000007"
    assert (accepted.isread, accepted.fromuserid, accepted.fromclientid, accepted.from_fullname) == \
        (False, None, docs["client"], "Ion Popescu")
    # the email, through the outbox, links to the same page
    [mail] = [m for m in outbox(app, to_email=AGENT) if "accepted" in m.subject]
    assert mail.subject == "Ion Popescu accepted proposal PRO-000007" and mail.rel_type == "proposal"
    assert f"/admin/proposals/details/?id={docs['proposal']}" in mail.body_html

    agent = agent_client(app)
    assert bell(agent.get("/admin/").get_data(as_text=True)) == 2
    listing = agent.get("/admin/notifications/").get_data(as_text=True)
    assert "Ion Popescu accepted proposal PRO-000007" in listing
    followed = agent.get(f"/admin/notifications/{accepted.id}/open")
    assert followed.status_code == 302 and followed.headers["Location"] == accepted.link
    details = agent.get(followed.headers["Location"])
    assert details.status_code == 200 and "PRO-000007" in details.get_data(as_text=True)
    assert [n.isread for n in notes(app)] == [False, True]  # following it read it
    assert bell(agent.get("/admin/").get_data(as_text=True)) == 1


def test_the_staff_member_who_acts_is_not_told_but_the_assigned_one_is(app, admin_client, docs):
    agent = agent_client(app)
    resp = agent.post(f"/api/v1/proposals/{docs['proposal']}/actions/send", json={},
                      headers=api_token(agent, AGENT, "pass-1234"))
    assert resp.status_code == 200, resp.get_json()
    assert notes(app) == []  # the agent sent it themselves
    assert outbox(app, to_email=AGENT) == []

    press(admin_client, "proposals", "send", docs["proposal"])
    [note] = notes(app)
    assert note.description == "Admin sent proposal PRO-000007 to Popescu Logistic SRL"
    assert note.from_fullname == "Admin" and note.fromclientid is None
    [mail] = outbox(app, to_email=AGENT)  # the editable "proposal sent" template
    assert mail.subject == "Proposal PRO-000007 was sent to Popescu Logistic SRL"
    assert notes(app, "admin@test.example") == []


def test_payments_and_the_overdue_sweep_tell_the_sales_agent(app, admin_client):
    from crm.core.models.settings import Staff
    from crm.sales.actions.invoices import sweep_overdue
    from crm.sales.models.clients import Client

    with app.app_context():
        ids = base_data()
        db.session.get(Staff, ids["agent"]).set_password("pass-1234")
        client = db.session.get(Client, make_client().userid)
        late = make_invoice(ids, client, duedate=TODAY - timedelta(days=3), sale_agent=ids["agent"])
        due = make_invoice(ids, client, sale_agent=ids["agent"])
        late_id, late_no, due_id, due_no = late.id, late.formatted_number, due.id, due.formatted_number
        db.session.commit()
        assert sweep_overdue() == 1
    form = admin_client.get(f"/admin/invoices/run-action/record_payment/{due_id}").get_data(as_text=True)
    press(admin_client, "invoices", "record_payment", due_id, page=form,
          data={"amount": "298.10", "date": TODAY.isoformat(), "paymentmode": str(ids["cash"])})
    assert [n.description for n in notes(app)] == [
        f"Invoice {late_no} is overdue (due {TODAY - timedelta(days=3):%d.%m.%Y})",
        f"A payment of 298.10 RON was recorded on invoice {due_no}",
        f"Invoice {due_no} was paid in full",
    ]
    assert notes(app)[0].link == f"/admin/invoices/details/?id={late_id}"
    assert len(outbox(app, to_email=AGENT)) == 3


def test_leads_tell_their_assignee(app, client):
    from crm.core import options
    from crm.core.models.settings import Staff
    from tests.conftest import make_staff

    with app.app_context():
        make_staff(AGENT, "Sales Agent")
        other = make_staff("sdr@test.example", "SDR")
        agent_id = db.session.query(Staff.staffid).filter_by(email=AGENT).scalar()
        other_id = other.staffid
        options.set("notifications_email_staff", False)
        db.session.commit()
    headers = api_token(client)
    lead = client.post("/api/v1/leads", json={"name": "Ana Pop", "assigned": agent_id}, headers=headers).get_json()
    [note] = notes(app)
    assert note.description == "New lead Ana Pop, assigned to you"
    assert note.link == f"/admin/leads/details/?id={lead['id']}"
    assert client.patch(f"/api/v1/leads/{lead['id']}", json={"assigned": other_id}, headers=headers).status_code == 200
    [moved] = notes(app, "sdr@test.example")
    assert moved.description == "Admin assigned lead Ana Pop to you"
    # the agent creating a lead for themselves is not told; with the option off nobody is emailed
    agent_headers = api_token(client, AGENT, "pass-1234")
    assert client.post("/api/v1/leads", json={"name": "Own Lead", "assigned": agent_id},
                       headers=agent_headers).status_code == 201
    assert len(notes(app)) == 1 and outbox(app) == []
    # with staff emails on, reassigning also emails the new assignee (queued in the same transaction)
    with app.app_context():
        options.set("notifications_email_staff", True)
        db.session.commit()
    assert client.patch(f"/api/v1/leads/{lead['id']}", json={"assigned": agent_id}, headers=headers).status_code == 200
    assert [m.to_email for m in outbox(app)] == [AGENT]


def test_mark_read_one_and_all_and_the_list_costs_the_same_queries_at_any_length(app, docs):
    from crm.notifications.models import Notification

    def add(n):
        with app.app_context():
            for i in range(n):
                db.session.add(Notification(touserid=docs["agent"], description=f"Note {i}", from_fullname="X",
                                            link=f"/admin/proposals/details/?id={docs['proposal']}"))
            db.session.commit()

    agent = agent_client(app)
    add(3)
    agent.get("/admin/notifications/")  # warm up (options, roles)
    with app.app_context(), QueryCounter(db.engine) as few:
        assert agent.get("/admin/notifications/").status_code == 200
    add(25)
    with app.app_context(), QueryCounter(db.engine) as many:
        page = agent.get("/admin/notifications/").get_data(as_text=True)
    assert page.count('data-testid="notification"') == 28 and many.count == few.count

    first = notes(app)[0]
    token = csrf_from(page)
    agent.post(f"/admin/notifications/{first.id}/read", data={"csrf_token": token})
    assert bell(agent.get("/admin/").get_data(as_text=True)) == 27
    assert agent.post("/admin/notifications/999999/read", data={"csrf_token": token}).status_code == 404
    done = agent.post("/admin/notifications/read-all", data={"csrf_token": token}, follow_redirects=True)
    assert "27 notification(s) marked as read." in done.get_data(as_text=True)
    assert bell(agent.get("/admin/").get_data(as_text=True)) == 0
    # nobody reads or opens another's notifications
    with app.app_context():
        from crm.core.models.settings import Staff

        admin_id = db.session.query(Staff.staffid).filter_by(email="admin@test.example").scalar()
        other = Notification(touserid=admin_id, description="Admin's", link="/admin/")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    assert agent.get(f"/admin/notifications/{other_id}/open").status_code == 404


def test_every_rule_names_a_known_event_and_real_columns():
    from crm.core import events
    from crm.notifications.rules import RULES
    from crm.purchasing.models import PurchaseOrder
    from crm.sales.models.clients import Lead
    from crm.sales.models.documents import Contract, Estimate, Invoice, InvoicePayment, Proposal
    from crm.warehouse.models import GoodsDelivery, GoodsReceipt, PhysicalInventory

    about = {"lead": Lead, "proposal": Proposal, "estimate": Estimate, "invoice": Invoice, "payment": Invoice,
             "purchase_order": PurchaseOrder, "goods_receipt": GoodsReceipt, "delivery_note": GoodsDelivery,
             "contract": Contract, "physical_inventory": PhysicalInventory}
    assert InvoicePayment.invoice is not None
    for rule in RULES:
        assert rule.event in events.EVENTS, rule.event
        if callable(rule.recipients):
            continue  # a function of the record (a goal's staff member or the admins: tests/sales/test_goals.py)
        model = about[rule.event.split(".")[0]]
        for column in rule.recipients:
            assert column in model.__table__.columns, (rule.event, column)


def test_a_staff_member_can_stop_the_emails_and_keep_the_bell(app, docs):
    client = app.test_client()  # the client in the portal (pytest-flask's would keep its request context)

    def choose(on: bool) -> str:
        agent = agent_client(app)
        page = agent.get("/admin/notifications/").get_data(as_text=True)
        return agent.post("/admin/notifications/email", follow_redirects=True,
                          data={"csrf_token": csrf_from(page), "email": "1" if on else "0"}).get_data(as_text=True)

    assert "Notifications are also emailed to you." in agent_client(app).get("/admin/notifications/").get_data(
        as_text=True)
    assert "Notifications are not emailed to you." in choose(False)
    opened(client, docs["urls"]["proposal"])  # the client opens the proposal
    [note] = notes(app)
    assert "opened proposal PRO-000007" in note.description
    assert outbox(app, to_email=AGENT) == []
    assert "Notifications are also emailed to you." in choose(True)
    post_form(client, docs["urls"]["proposal"], {"_action": "decline", "firstname": "Ion", "lastname": "Popescu",
                                                 "email": ""})
    assert notes(app)[-1].description == "Ion Popescu declined proposal PRO-000007"
    [mail] = outbox(app, to_email=AGENT)
    assert mail.subject == "Ion Popescu declined proposal PRO-000007"
