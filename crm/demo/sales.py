"""Demo sales documents: proposals, sales orders, invoices, payments, contracts and goals, each walked through its actions."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from crm.catalog.models import Currency
from crm.core.extensions import db
from crm.core.models.base import money
from crm.sales.actions.estimates import expire_sent
from crm.sales.actions.proposals import client_viewed
from crm.sales.models.documents import (
    Contract,
    Estimate,
    Goal,
    GoalType,
    Invoice,
    ItemLine,
    ItemTax,
    Proposal,
)
from crm.demo.base import Demo, dated, entered, primary_contact


# --- sales documents ---------------------------------------------------------------------------

def _catalog_lines(d: Demo, lines, currency: Currency) -> list[ItemLine]:
    """Document lines for catalog items, priced in the document's currency, with the item's tax."""
    out = []
    for order, (code, qty) in enumerate(lines, 1):
        item, tax = d.items[code], d.items[code].tax_rel
        out.append(ItemLine(description=item.commodity_name, qty=Decimal(qty), unit=item.unit, item_id=item.id,
                            rate=money(item.rate / currency.exchange_rate), item_order=order,
                            taxes=[ItemTax(taxname=tax.name, taxrate=tax.taxrate)]))
    return out


def _typed(d: Demo, model, spec: dict, **fields):
    """A draft proposal, sales order or invoice as ``spec['staff']`` types it on day ``spec['days']``."""
    currency = d.currencies[spec.get("currency", "RON")]
    doc = model(currency_rel=currency, status=model.__table__.c.status.info["enum"].DRAFT.value,
                date=d.day(spec["days"]), items=_catalog_lines(d, spec["lines"], currency), **fields)
    d.docs[spec["key"]] = entered(d, doc, spec["staff"], d.at(spec["days"]))
    return doc


def _walk(d: Demo, doc, path, role: str, days: int) -> None:
    """Run the actions of ``path`` on ``doc`` one after the other, a day apart from ``days`` on."""
    for n, name in enumerate(path):
        if name == "viewed":
            _client_opens(d, doc, d.at(days + n, 16))
        else:
            d.act(doc, name, role, d.at(days + n, 11))


def _client_opens(d: Demo, proposal: Proposal, when: datetime) -> None:
    """The client opens the proposal's portal link (the portal's own action: Sent → Reviewed)."""
    with d.stamped(when):
        client_viewed(proposal, "86.124.10.15")


# How each proposal status is reached from Draft.
PROPOSAL_PATHS = {6: (), 4: ("send",), 7: ("mark_sent",), 1: ("mark_sent", "viewed"), 3: ("mark_sent", "accept"),
                  2: ("mark_sent", "decline"), 5: ("mark_sent", "mark_revised")}


PROPOSALS = (  # in date order (numbering); to: ("client" | "lead", key)
    dict(key="p_litoral", to=("client", "litoral"), status=2, days=-48, valid=30, staff="Sales Agent",
         subject="Cafea și consumabile pentru restaurantele hotelului",
         lines=(("CAF-1KG", 30), ("PAP-A4", 20), ("DEZ-5L", 10))),
    dict(key="p_carpathia", to=("client", "carpathia"), opportunity="carpathia", status=3, days=-42, valid=30,
         staff="Sales Agent", subject="Echipare depozit Berceni: laptopuri, monitoare, tonere",
         lines=(("LAP-5440", 3), ("MON-P2425", 3), ("TON-59A", 10), ("SRV-INST", 6))),
    dict(key="p_nordic", to=("client", "nordic"), opportunity="nordic", status=3, days=-33, valid=30,
         currency="EUR", staff="Sales Manager", subject="Mentenanță IT și instruire utilizatori, 12 luni",
         lines=(("SRV-MNT", 12), ("SRV-TRN", 2), ("SRV-INST", 8))),
    dict(key="p_brasov", to=("client", "brasov"), status=5, days=-25, valid=30, staff="Sales Agent",
         subject="Monitoare și cablare rețea pentru showroom",
         lines=(("MON-P2425", 6), ("CAB-C6", 2), ("SRV-INST", 10))),
    dict(key="p_toma", to=("lead", "toma"), status=1, days=-20, valid=30, staff="Sales Agent",
         subject="Laptopuri și etichete pentru magazinele Toma Retail",
         lines=(("LAP-5440", 2), ("ETK-100", 40), ("KIT-ONB", 2))),
    dict(key="p_banat", to=("client", "banat"), opportunity="banat", status=7, days=-15, valid=30,
         currency="EUR", staff="Sales Manager", subject="Consumabile birou pentru fabrica din Timișoara",
         lines=(("KIT-ONB", 20), ("PAP-A4", 100), ("ETK-100", 50))),
    dict(key="p_dunarea", to=("client", "dunarea"), opportunity="dunarea", status=4, days=-10, valid=30,
         staff="Sales Agent", subject="Laptopuri pentru agronomi și instalare",
         lines=(("LAP-5440", 5), ("KIT-ONB", 5), ("SRV-INST", 5))),
    dict(key="p_moldova", to=("client", "moldova"), opportunity="moldova", status=6, days=-2, valid=30,
         staff="Sales Agent", subject="Echipamente pentru echipa de vânzări",
         lines=(("LAP-5440", 8), ("MON-P2425", 8), ("SRV-INST", 12), ("SRV-TRN", 1))),
)


def _recipient(d: Demo, kind: str, key: str) -> dict:
    """Who a proposal goes to: a customer (its primary contact) or a lead."""
    if kind == "client":
        client = d.clients[key]
        contact = primary_contact(client)
        return dict(rel_type="customer", rel_id=client.userid, proposal_to=client.company, email=contact.email,
                    phone=contact.phonenumber, address=client.billing_street, city=client.billing_city,
                    state=client.billing_state, zip=client.billing_zip, country=client.billing_country)
    lead = d.leads[key]
    return dict(rel_type="lead", rel_id=lead.id, proposal_to=lead.company, email=lead.email, phone=lead.phonenumber,
                city=lead.city, state=lead.state, country=lead.country)


def proposals(d: Demo) -> None:
    """Proposals: draft, sent, reviewed, sent manually, accepted, declined, revised"""
    for spec in PROPOSALS:
        opportunity = d.opportunities.get(spec.get("opportunity"))
        proposal = _typed(
            d, Proposal, spec, subject=spec["subject"], assigned=d.staff_id(spec["staff"]),
            open_till=d.day(spec["days"] + spec["valid"]), opportunity_id=opportunity.id if opportunity else None,
            content="Prețurile includ livrarea în localitatea de reședință. Garanție 36 de luni pentru echipamente.",
            **_recipient(d, *spec["to"]))
        _walk(d, proposal, PROPOSAL_PATHS[spec["status"]], spec["staff"], spec["days"])


ESTIMATES = (  # sales orders, in date order
    dict(key="e_brasov", client="brasov", status=5, days=-75, valid=30, staff="Sales Agent",
         reference_no="BAP-2026-311", lines=(("TON-59A", 6), ("PAP-A4", 40))),
    dict(key="e_carpathia", client="carpathia", status=4, days=-36, valid=30, staff="Sales Agent",
         reference_no="PO-CARP-2026-118", **{"from": "p_carpathia"}),
    dict(key="e_litoral", client="litoral", status=3, days=-30, valid=15, staff="Sales Agent",
         reference_no=None, lines=(("CAF-1KG", 20), ("DEZ-5L", 6))),
    dict(key="e_dunarea", client="dunarea", status=2, days=-9, valid=30, staff="Sales Agent",
         reference_no="DA-112", lines=(("ETK-100", 30), ("PAP-A4", 60))),
    dict(key="e_transilvania", client="transilvania", status=4, days=-6, valid=30, staff="Sales Manager",
         reference_no="TR-ACH-5520", lines=(("MON-P2425", 12), ("LAP-5440", 4), ("KIT-ONB", 4), ("SRV-INST", 8))),
    dict(key="e_moldova", client="moldova", status=1, days=-1, valid=30, staff="Sales Agent",
         reference_no=None, lines=(("DEZ-5L", 10), ("CAF-1KG", 5))),
)


# How each sales order status is reached from Draft (Expired: sent, then the daily sweep).
ESTIMATE_PATHS = {1: (), 2: ("send",), 3: ("send", "decline"), 4: ("send", "accept"), 5: ("send",)}


def estimates(d: Demo) -> None:
    """Sales orders: draft, sent, declined, accepted/invoiced, expired"""

    for spec in ESTIMATES:
        days, role = spec["days"], spec["staff"]
        if "from" in spec:  # the accepted proposal becomes the sales order
            proposal = d.docs[spec["from"]]
            d.act(proposal, "convert_to_estimate", role, d.at(days))
            estimate = d.docs[spec["key"]] = proposal.estimate
            dated(proposal, date_converted=d.at(days))
            dated(estimate, date=d.day(days), datecreated=d.at(days), reference_no=spec["reference_no"],
                   expirydate=d.day(days + spec["valid"]))
            continue
        estimate = _typed(d, Estimate, spec, clientid=d.clients[spec["client"]].userid,
                          sale_agent=d.staff_id(role), expirydate=d.day(days + spec["valid"]),
                          reference_no=spec["reference_no"],
                          terms="Livrare în 5 zile lucrătoare de la confirmarea comenzii.")
        _walk(d, estimate, ESTIMATE_PATHS[spec["status"]], role, days)
        if estimate.datesend:
            dated(estimate, datesend=d.at(days, 11))
    with d.stamped(datetime.combine(d.today, time.min)):
        expire_sent(d.today)  # the daily job, at midnight


INVOICES = (  # in date order; status before payments (crm.sales.actions.invoices recomputes it after them)
    dict(key="i_banat", client="banat", status=4, days=-50, due=30, currency="EUR", staff="Sales Manager",
         lines=(("SRV-MNT", 3), ("SRV-INST", 6))),
    dict(key="i_litoral", client="litoral", status=5, days=-35, due=30, staff="Sales Agent",
         lines=(("SRV-INST", 4), ("SRV-TRN", 1)), adminnote="Anulată: emisă din greșeală pe alt punct de lucru."),
    dict(key="i_nordic", client="nordic", status=1, days=-30, due=45, staff="Sales Manager", **{"from": "p_nordic"}),
    dict(key="i_carpathia", client="carpathia", status=1, days=-12, due=30, staff="Sales Agent",
         **{"from": "e_carpathia"}),
    dict(key="i_transilvania", client="transilvania", status=1, days=-4, due=30, staff="Sales Manager",
         **{"from": "e_transilvania"}),
    dict(key="i_moldova", client="moldova", status=6, days=-1, due=30, staff="Sales Agent",
         lines=(("SRV-MNT", 3), ("SRV-INST", 2))),
)


# How each invoice status is reached from Draft, by Finance (Overdue: issued past its due date; paid
# ones: payments).
INVOICE_PATHS = {6: (), 1: ("issue",), 4: ("issue",), 5: ("issue", "mark_cancelled")}


def invoices(d: Demo) -> None:
    """Invoices: draft, unpaid, overdue, cancelled, in RON and EUR, three converted from proposals and sales orders"""
    for spec in INVOICES:
        days, role = spec["days"], spec["staff"]
        due = d.day(days + spec["due"])
        if "from" in spec:
            source = d.docs[spec["from"]]
            d.act(source, "convert_to_invoice", role, d.at(days))
            invoice = d.docs[spec["key"]] = source.invoice
            dated(source, **{"date_converted" if isinstance(source, Proposal) else "invoiced_date": d.at(days)})
            dated(invoice, date=d.day(days), datecreated=d.at(days), duedate=due,
                   exchange_rate=invoice.currency_rel.exchange_rate)
        else:
            invoice = _typed(d, Invoice, spec, clientid=d.clients[spec["client"]].userid, duedate=due,
                             sale_agent=d.staff_id(role), adminnote=spec.get("adminnote"),
                             terms="Plata prin ordin de plată în termenul scadent. Vă mulțumim!",
                             allowed_payment_modes=json.dumps([d.payment_modes[name].id
                                                               for name in ("Bank transfer", "Card")]))
            invoice.exchange_rate = invoice.currency_rel.exchange_rate  # the day's rate, typed with it
            _walk(d, invoice, INVOICE_PATHS[spec["status"]], "Finance", days)


PAYMENTS = (  # invoice, share of the total, payment mode, day, bank reference
    ("i_carpathia", "1", "Bank transfer", -5, "OP 4587 / BTRL"),
    ("i_nordic", "0.5", "Bank transfer", -10, "SEPA NSS-2026-118"),
)


def payments(d: Demo) -> None:
    """Payments: one invoice paid in full, one partially"""
    for key, share, mode, days, reference in PAYMENTS:
        invoice = d.docs[key]
        d.act(invoice, "record_payment", "Finance", d.at(days, 14), amount=money(invoice.total * Decimal(share)),
              paymentmode=d.payment_modes[mode].id, date=d.day(days), transactionid=reference,
              note=f"Încasare {invoice.formatted_number}")


CONTRACTS = (  # client, subject, type, status, start day, length (days), signed, value (None: proposal's)
    ("carpathia", "Furnizare și instalare echipamente IT, depozit Berceni", "Service agreement", "Active",
     -34, 365, True, None, "p_carpathia"),
    ("nordic", "SLA suport IT 8x5, timp de răspuns 4 ore", "SLA", "Active", -30, 365, True, "86000.00", None),
    ("banat", "Acord-cadru furnizare consumabile", "Supply framework", "Draft", 38, 365, False, "120000.00", None),
    ("litoral", "Mentenanță echipamente IT hotel", "SLA", "Expired", -375, 365, True, "18000.00", None),
    ("brasov", "Service imprimante și consumabile", "Service agreement", "Terminated", -200, 365, True,
     "9600.00", None),
)


def contracts(d: Demo) -> None:
    """Contracts: one from an accepted proposal, in every status, the signed ones signed on paper; the draft is the sales agent's"""
    for client_key, subject, kind, status, start, length, signed, value, proposal_key in CONTRACTS:
        client = d.clients[client_key]
        added = d.at(min(start, 0) - 3)
        fields = dict(subject=subject, contract_type=d.contract_types[kind].id, status=d.contract_statuses[status].id,
                      datestart=d.day(start), dateend=d.day(start + length), dateadded=added,
                      description=f"Contract {kind.lower()} cu {client.company}.")
        if proposal_key:
            proposal = d.docs[proposal_key]
            d.act(proposal, "create_contract", "Sales Manager", added)
            contract = db.session.query(Contract).filter_by(proposal_id=proposal.id).one()
            dated(contract, contract_value=proposal.subtotal, **fields)
        else:
            owner = "Sales Agent" if status == "Draft" else "Sales Manager"  # the agent drafts the framework
            contract = Contract(client=client.userid, addedfrom=d.staff_id(owner),
                                contract_value=Decimal(value), **fields)
            db.session.add(contract)
        db.session.flush()
        if signed:
            contact = primary_contact(client)
            d.act(contract, "mark_signed", "Sales Manager", d.at(start, 12), signed_on=d.day(start),
                  signer=f"{contact.firstname} {contact.lastname}", signer_email=contact.email)


GOALS = (  # subject, type, target, staff role (None: company-wide), period, contract type
    ("Încasări trimestrul curent", GoalType.TOTAL_INCOME, "150000", None, "quarter", None),
    ("Clienți noi în {year}", GoalType.ALL_NEW_CUSTOMERS, "24", None, "year", None),
    ("Contracte SLA începute în {year}", GoalType.CONTRACTS_BY_TYPE_DATESTART, "6", None, "year", "SLA"),
    ("Lead-uri convertite, trimestrul curent", GoalType.CONVERTED_LEADS, "12", "Sales Agent", "quarter", None),
    ("Valoare facturată, trimestrul curent", GoalType.INVOICED_AMOUNT, "250000", "Sales Manager", "quarter", None),
)


def goals(d: Demo) -> None:
    """Goals: company-wide and per staff member"""
    quarter_start = date(d.today.year, 3 * ((d.today.month - 1) // 3) + 1, 1)
    quarter_end = (quarter_start + timedelta(days=92)).replace(day=1) - timedelta(days=1)
    periods = {"quarter": (quarter_start, quarter_end),
               "year": (date(d.today.year, 1, 1), date(d.today.year, 12, 31))}
    for subject, goal_type, target, role, period, contract_type in GOALS:
        start, end = periods[period]
        db.session.add(Goal(subject=subject.format(year=d.today.year), goal_type=goal_type.value,
                            achievement=Decimal(target), start_date=start, end_date=end,
                            staff_id=d.staff_id(role) or 0,
                            contract_type=d.contract_types[contract_type].id if contract_type else None))
