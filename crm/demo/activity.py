"""Demo activity: notes, reminders, a campaign and courier bookings."""
from __future__ import annotations

from crm.core import options
from crm.core.extensions import db
from crm.sales.models.marketing import MarketingCampaign
from crm.sandbox import DEMO_KEYS
from crm.sales.models.clients import (
    Note,
    Reminder,
)
from crm.demo.base import Demo, rel_id, public_base


# --- notes and reminders -------------------------------------------------------------------------

NOTES = (  # about ("lead" | "customer", key), staff, day, text
    (("lead", "dunarea"), "Sales Agent", -35, "Apel: vor 5 laptopuri pentru agronomi până în martie, buget aprobat."),
    (("lead", "moldova"), "Sales Agent", -12, "Demo online făcut; interesați și de instruire pentru 12 utilizatori."),
    (("lead", "vila"), "SDR", -1, "A completat formularul Facebook; preferă să fie sunată după ora 14."),
    (("customer", "carpathia"), "Sales Agent", -8, "Livrare confirmată telefonic cu dl. Georgescu, rampa 3."),
    (("customer", "banat"), "Finance", -15, "Factura restantă: au cerut copia facturii pe e-mail, retrimisă."),
)


REMINDERS = (  # about (rel type, key), staff, in days, text
    (("lead", "moldova"), "Sales Agent", 2, "Revenire după demo: trimite oferta finală."),
    (("lead", "vila"), "SDR", 1, "Primul apel de calificare."),
    (("invoice", "i_banat"), "Finance", 1, "Sună la Banat Industrial pentru factura restantă."),
    (("estimate", "e_dunarea"), "Sales Agent", 5, "Verifică dacă au aprobat comanda de consumabile."),
)


def _about(d: Demo, rel_type: str, key: str) -> int:
    registry = {"lead": d.leads, "customer": d.clients}.get(rel_type, d.docs)
    return rel_id(registry[key])


def activity(d: Demo) -> None:
    """Activity: notes and reminders"""
    for (rel_type, key), role, days, text in NOTES:
        db.session.add(Note(rel_type=rel_type, rel_id=_about(d, rel_type, key), description=text,
                            addedfrom=d.staff_id(role), dateadded=d.at(days, 17), date_contacted=d.at(days, 16)))
    for (rel_type, key), role, days, text in REMINDERS:
        db.session.add(Reminder(rel_type=rel_type, rel_id=_about(d, rel_type, key), description=text,
                                date=d.at(days, 9), staff=d.staff_id(role), creator=d.staff_id(role),
                                isnotified=False, notify_by_email=True))


def marketing(d: Demo) -> None:
    """Marketing: a draft newsletter to the leads of the first pipeline, a webinar invitation scheduled"""

    pipeline = next(iter(d.pipelines.values()))
    author = d.staff_id("Sales Manager")
    newsletter = MarketingCampaign(
        name="Newsletter: oferta lunii", subject="{companyname}: oferta lunii pentru {company}",
        body="<p>Bună ziua, {firstname},</p><p>Luna aceasta, echipamentele IT au 10% reducere.</p>",
        audience_leads=True, lead_pipeline=pipeline.id, addedfrom=author)
    webinar = MarketingCampaign(
        name="Invitație webinar", subject="Webinar: digitalizarea depozitului",
        body="<p>Bună ziua, {firstname},</p><p>Vă invităm la webinarul nostru de joi.</p>",
        audience_leads=True, audience_contacts=True, addedfrom=author)
    db.session.add_all([newsletter, webinar])
    db.session.flush()
    d.act(webinar, "schedule", "Sales Manager", d.at(-1, 15), scheduled_at=f"{d.at(7, 9):%Y-%m-%dT%H:%M}")


def courier(d: Demo) -> None:
    """Courier: Innoship pointed at the stand-in `make run` serves at /sandbox/innoship"""

    # Set after the demo's packing list is approved, so that loading never calls a courier.
    options.set("innoship_api_url", f"{public_base()}/sandbox/innoship")
    options.set("innoship_api_key", DEMO_KEYS["innoship"])
    options.set("innoship_location_id", "WH-BUC")
