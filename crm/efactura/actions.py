"""The e-Factura buttons on an invoice: Generate XML, Send to ANAF, Check status, Download archive.

The work is in crm/efactura/service.py; here each step becomes an action (grid button, API,
CLI, permission, activity line). A failed outside call has already been recorded on the invoice
(status and message) when the action reports it.
"""
from __future__ import annotations

from datetime import date

from wtforms import BooleanField, Form

from crm.core.totals import refresh
from crm.core import numbering
from crm.core.extensions import db
from crm.core.registry import ActionError, action
from crm.efactura import service
from crm.sales.actions.conversions import ADDRESS_PARTS, copy_lines
from crm.sales.actions.sales_activity import log_sales_activity
from crm.sales.models.documents import Invoice
from crm.sales.models.efactura import EfacturaStatus as ES


def _run(step, invoice, *args):
    try:
        return step(invoice, *args)
    except service.EfacturaFailure as exc:
        raise ActionError(str(exc)) from None


@action(Invoice, "efactura_generate", "Generate XML (e-Factura)", icon="fa-file-code-o")
def efactura_generate(invoice, actor):
    uploaded = service.uploaded_xml(invoice)
    if uploaded is not None:  # ANAF holds it: what it holds is the XML, never one generated again
        return (f"invoice {invoice} is at ANAF ({ES.label_of(invoice.efactura_status)}); its XML is the one "
                f"uploaded ({len(uploaded)} bytes), not generated again")
    gen = service.generate(invoice)
    fatal = gen.fatal
    if fatal:
        raise ActionError(f"The e-Factura XML of invoice {invoice} has {len(fatal)} problem(s) to correct:\n"
                          + service.describe(fatal))
    warnings = [f for f in gen.findings if not f.fatal]
    note = f" ({len(warnings)} warning(s): {service.describe(warnings, 3)})" if warnings else ""
    kind = "credit note" if gen.doc.kind == "CreditNote" else "invoice"
    return f"the XML ({kind}, {len(gen.xml)} bytes) passes the pre-check{note}"


def _sendable(invoice) -> str | None:
    if invoice.efactura_status in service.UNCERTAIN:
        return None  # allowed with the confirmation the form asks for
    return service.send_refusal(invoice)


class ResendForm(Form):
    confirm_resend = BooleanField("ANAF does not have it (only after an upload that got no answer: "
                                  "I looked in SPV and it is not there)")


@action(Invoice, "efactura_send", "Send to ANAF", form=ResendForm, precondition=_sendable, icon="fa-upload",
        confirm="Send this invoice to ANAF (SPV)?")
def efactura_send(invoice, actor, confirm_resend=False):
    result = _run(service.send, invoice, bool(confirm_resend))
    log_sales_activity(invoice, actor, f"e-Factura: {result}")
    return result


def _was_sent(invoice) -> str | None:
    if not invoice.efactura_upload_index:
        return f"Invoice {invoice} has not been sent to ANAF yet."
    return None


@action(Invoice, "efactura_check", "Check ANAF status", precondition=_was_sent, icon="fa-refresh")
def efactura_check(invoice, actor):
    return _run(service.check, invoice)


def _has_result(invoice) -> str | None:
    if invoice.efactura_status not in (ES.OK.value, ES.REJECTED.value) or not invoice.efactura_download_id:
        return f"Invoice {invoice} has no ANAF result to download yet: check its status first."
    return None


@action(Invoice, "efactura_download", "Download ANAF archive", precondition=_has_result, icon="fa-download")
def efactura_download(invoice, actor):
    archive = _run(service.download, invoice)
    pdf = " and PDF" if service.pdf_path(invoice) else " (PDF not available from ANAF)"
    return f"archive {invoice.efactura_download_id}.zip ({len(archive)} bytes){pdf} kept on the invoice"


def _creditable(invoice) -> str | None:
    if invoice.status != 5:
        return f"Invoice {invoice} is not cancelled; only a cancelled invoice is reversed by a credit note."
    if invoice.efactura_status != ES.OK.value:
        return (f"Invoice {invoice} was not accepted by ANAF ({ES.label_of(invoice.efactura_status)}); "
                "there is nothing to reverse in e-Factura.")
    return None


@action(Invoice, "efactura_credit_note", "Create e-Factura credit note", precondition=_creditable,
        icon="fa-undo", confirm="Create a credit note reversing this invoice?")
def efactura_credit_note(invoice, actor):
    """A new invoice with every line negated and BT-25 pointing at the original: sent as a CreditNote."""
    credit = Invoice(clientid=invoice.clientid, date=date.today(), duedate=date.today(), currency=invoice.currency,
                     exchange_rate=invoice.exchange_rate, status=1, sale_agent=invoice.sale_agent,
                     discount_percent=invoice.discount_percent, discount_type=invoice.discount_type,
                     discount_total=invoice.discount_total,
                     adjustment=-invoice.adjustment if invoice.adjustment else None,
                     efactura_billing_reference=str(invoice), terms=invoice.terms,
                     clientnote=f"Stornare factura {invoice} din {invoice.date:%d.%m.%Y}",
                     addedfrom=getattr(actor, "staffid", None),
                     **{f"{k}_{p}": getattr(invoice, f"{k}_{p}") for k in ("billing", "shipping")
                        for p in ADDRESS_PARTS})
    copy_lines(invoice, credit)
    for line in credit.items:
        line.qty = -line.qty
    if credit.discount_type and not credit.discount_percent:
        credit.discount_total = -(invoice.discount_total or 0)
    refresh(credit)
    db.session.add(credit)
    db.session.flush()
    numbering.assign(credit)
    log_sales_activity(invoice, actor, f"e-Factura credit note {credit} created")
    log_sales_activity(credit, actor, f"Credit note reversing invoice {invoice}")
    return f"credit note {credit} created ({credit.total}); send it to ANAF from its page"
