"""PDFs of the sales documents: proposals, sales orders (estimates) and invoices (one template,
templates/pdf/document.html), payment receipts and contracts; crm/core/documents.py serves them
(staff download, portal links) once declared here."""
from __future__ import annotations

import base64
from decimal import Decimal

from flask import render_template
from sqlalchemy import func

from crm.catalog.models import PaymentMode
from crm.core import options
from crm.core.documents import (
    Kind,
    address_lines,
    by_id,
    company,
    currency_of,
    fmt,
    fmt_price,
    fmt_qty,
    kind_of,
    number_of,
    register,
)
from crm.core.extensions import db
from crm.core.labels import tax_label
from crm.core.numbering import shown
from crm.core.resources import api_value
from crm.core.totals import compute, line_amount
from crm.sales.invoice_status import amount_paid
from crm.sales.models.clients import Client
from crm.sales.models.documents import Estimate, Invoice, InvoicePayment, Proposal


def client_block(doc) -> dict:
    if type(doc).__name__ == "Proposal":
        client = None
        if doc.rel_type == "customer" and doc.rel_id:
            client = db.session.get(Client, doc.rel_id)
        return {"name": doc.proposal_to or (client.company if client else ""),
                "vat": client.vat if client else None,
                "lines": address_lines(doc.address, " ".join(address_lines(doc.zip, doc.city)), doc.state, doc.country),
                "email": doc.email, "phone": doc.phone}
    c = doc.client
    return {"name": c.company, "vat": c.vat, "registration": c.registration_number,
            "lines": address_lines(doc.billing_street or c.billing_street or c.address,
                              " ".join(address_lines(doc.billing_zip or c.billing_zip, doc.billing_city or c.billing_city)),
                              doc.billing_state or c.billing_state, doc.billing_country or c.billing_country),
            "email": None, "phone": c.phonenumber}


def lines_and_totals(doc):
    """The printed lines and totals, computed by the one totals function (crm/core/totals.py): what the
    PDF, the portal page and the staff's document page show. ``taxes`` are (label, amount, base)."""
    lines = [{"description": ln.description, "long_description": ln.long_description, "qty": fmt_qty(ln.qty),
              "unit": ln.unit or "", "rate": fmt_price(ln.rate), "amount": fmt(line_amount(ln)),
              "taxes": ", ".join(tax_label(t.taxname, t.taxrate) for t in ln.taxes),
              "optional": ln.is_optional and not ln.is_selected} for ln in doc.items]
    if doc.items:
        t = compute(doc.items, doc.discount_percent, doc.discount_type, doc.discount_total, doc.adjustment)
        subtotal, discount, adjustment, total = t.subtotal, t.discount, t.adjustment, t.total
        # Each tax with the amount it is charged on (an exempt 0% line reads "Scutit 0% on 482.42", not
        # a bare 0.00); a tax no counted line carries an amount of (an optional line left out, a line
        # of 0) is not listed.
        taxes = [(tax_label(name, rate), amount, t.bases[(name, rate)])
                 for (name, rate), amount in sorted(t.taxes.items()) if t.bases[(name, rate)]]
    else:  # a document without lines: print what is stored
        subtotal, discount, adjustment, total = doc.subtotal, doc.discount_total, doc.adjustment, doc.total
        taxes = [("Tax", doc.total_tax, None)] if doc.total_tax else []
    return lines, {"subtotal": subtotal, "taxes": taxes, "discount": discount or Decimal(0),
                   "adjustment": adjustment or Decimal(0), "total": total}


def signature_block(doc) -> dict | None:
    """Who signed a proposal, sales order or contract, when, and the drawn signature as a data URI (the
    same image in the staff page, the portal page and the PDF); None until it is accepted or signed."""
    from crm.sales.portal.signatures import path_of  # cycle: portal -> portal.contracts -> documents

    if not hasattr(type(doc), "acceptance_date") or not (doc.signature or doc.acceptance_date):
        return None
    path = path_of(doc.signature)
    image = None
    if path is not None and path.is_file():
        image = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()
    signer = " ".join(p for p in (doc.acceptance_firstname, doc.acceptance_lastname) if p)
    return {"image": image, "signer": signer, "email": doc.acceptance_email, "when": doc.acceptance_date,
            "ip": doc.acceptance_ip, "on_paper": bool(getattr(doc, "marked_as_signed", False))}


def document_context(doc) -> dict:
    kind = kind_of(doc)
    lines, totals = lines_and_totals(doc)
    cur = currency_of(doc)
    ctx = {"kind": kind, "doc": doc, "number": number_of(doc), "company": company(), "client": client_block(doc),
           "lines": lines, "totals": totals, "currency": cur, "fmt": fmt,
           "date": doc.date, "until": getattr(doc, kind.until_field, None) if kind.until_field else None,
           "subject": getattr(doc, "subject", None), "notes": getattr(doc, "clientnote", None),
           "terms": getattr(doc, "terms", None), "paid": None, "signature": signature_block(doc)}
    if kind.name == "invoice" and doc.id:
        paid = Decimal(amount_paid(doc.id))
        ctx["paid"], ctx["due"] = paid, totals["total"] - paid
    return ctx


def contract_context(contract) -> dict:
    """What a contract's PDF and portal page show: parties, dates, value, content and the signature."""
    client = contract.client_rel
    signature = signature_block(contract)
    return {"kind": kind_of(contract), "doc": contract, "number": number_of(contract), "company": company(),
            "client": {"name": client.company, "vat": client.vat,
                       "lines": address_lines(client.billing_street or client.address,
                                         " ".join(address_lines(client.billing_zip or client.zip,
                                                           client.billing_city or client.city)),
                                         client.billing_country or client.country)},
            "currency": options.get("base_currency") or "", "fmt": fmt,
            "signature": signature}


def _contract_html(contract) -> str:
    return render_template("pdf/contract.html", **contract_context(contract))


def mode_names() -> dict[str, str]:
    """Every payment mode's name by its id as a payment stores it (a small look-up table, one query)."""
    return {str(i): name for i, name in db.session.query(PaymentMode.id, PaymentMode.name)}


def mode_name(payment, names: dict[str, str] | None = None) -> str:
    """A payment's mode as a person reads it: the tblpayment_modes name, or the gateway name. A page
    listing payments passes ``mode_names()`` so it reads them once, not once per payment."""
    mode = payment.paymentmode or ""
    if mode.isdigit():
        if names is None:
            row = db.session.get(PaymentMode, int(mode))
            mode = row.name if row else mode
        else:
            mode = names.get(mode, mode)
    return " – ".join(p for p in (mode, getattr(payment, "paymentmethod", None)) if p)


def _receipt_html(payment) -> str:
    inv = payment.invoice
    # What was left once this payment was in (later payments do not change an old receipt).
    paid = db.session.query(func.coalesce(func.sum(InvoicePayment.amount), 0)).filter(
        InvoicePayment.invoiceid == inv.id, InvoicePayment.id <= payment.id).scalar()
    return render_template("pdf/receipt.html", payment=payment, invoice=inv, company=company(),
                           client=client_block(inv), currency=currency_of(inv), fmt=fmt,
                           invoice_number=number_of(inv), mode=mode_name(payment),
                           left=max(inv.total - Decimal(paid or 0), Decimal(0)))


def _document_html(doc) -> str:
    return render_template("pdf/document.html", **document_context(doc))


register(
    Kind("proposal", "Proposal", "Proposal", "Date", "open_till", "Open till", html=_document_html),
    Kind("estimate", "Estimate", "Sales order", "Date", "expirydate", "Valid until", html=_document_html),
    Kind("invoice", "Invoice", "Invoice", "Invoice date", "duedate", "Due date", html=_document_html),
    Kind("receipt", "InvoicePayment", "Payment receipt", html=_receipt_html, filename=by_id),
    Kind("contract", "Contract", "Contract", "Start date", "dateend", "End date", html=_contract_html, filename=by_id),
)

# The number a person sees (a draft: PREFIX + DRAFT) beside the stored one, named as the API names
# the labels it dumps for status columns (<col>_label).
for _model in (Proposal, Estimate, Invoice):
    api_value(_model, "formatted_number_label", shown)
