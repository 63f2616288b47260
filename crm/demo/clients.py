"""Demo clients, contacts, leads and opportunities."""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from crm.core.extensions import db
from crm.sales.models.clients import (
    Client,
    Contact,
    Lead,
)
from crm.demo.base import COUNTRY, Demo, address, address_columns, dated
from crm.demo.masters import LEAD_STATUSES


# --- clients ---------------------------------------------------------------------------------

CLIENTS = (  # key, company, VAT (CUI), Reg. Com., phone, website, currency, billing, shipping (None: same)
    ("carpathia", "Carpathia Logistics SRL", "RO18234560", "J40/5612/2005", "+40 21 323 4550",
     "carpathia-logistics.ro", "RON", address("Bd. Decebal nr. 12, bl. S7, et. 2", "Sector 3", "București", "030964"),
     address("Șos. Berceni nr. 104, Hala C", "Sector 4", "București", "041919")),
    ("transilvania", "Transilvania Retail SA", "RO24567810", "J12/3321/2008", "+40 264 590 100",
     "transilvaniaretail.ro", "RON", address("Str. Memorandumului nr. 28", "Cluj-Napoca", "Cluj", "400114"),
     address("Str. Fabricii de Zahăr nr. 7", "Cluj-Napoca", "Cluj", "400632")),
    ("dunarea", "Dunărea Agro SRL", "RO30987656", "J17/845/2012", "+40 236 410 552", "dunareaagro.ro", "RON",
     address("Str. Brăilei nr. 45", "Galați", "Galați", "800310"), None),
    ("banat", "Banat Industrial Components SRL", "RO16543216", "J35/2210/2004", "+40 256 300 780",
     "banat-components.ro", "EUR", address("Calea Aradului nr. 70", "Timișoara", "Timiș", "300291"), None),
    ("moldova", "Moldova Pharma Distribution SRL", "RO27654325", "J22/1456/2010", "+40 232 210 640",
     "moldovapharma.ro", "RON", address("Bd. Independenței nr. 5", "Iași", "Iași", "700102"), None),
    ("litoral", "Litoral Hospitality SRL", "RO33445560", "J13/987/2014", "+40 241 831 200",
     "litoralhospitality.ro", "RON", address("Bd. Mamaia nr. 255", "Constanța", "Constanța", "900527"), None),
    ("brasov", "Brașov Auto Parts SRL", "RO21987657", "J08/1789/2007", "+40 268 470 355",
     "brasovautoparts.ro", "RON", address("Str. Zizinului nr. 110", "Brașov", "Brașov", "500407"), None),
    ("nordic", "Nordic Software Solutions SRL", "RO38765434", "J40/12345/2017", "+40 31 860 4400",
     "nordicsoft.ro", "EUR", address("Str. Fabrica de Glucoză nr. 11, et. 5", "Sector 2", "București", "020331"),
     None),
)


CONTACTS = (  # client, first name, last name, title, email, phone (the first one is primary)
    ("carpathia", "Radu", "Georgescu", "Director operațiuni", "radu.georgescu@carpathia-logistics.ro",
     "+40 722 314 551"),
    ("carpathia", "Irina", "Matei", "Contabil șef", "contabilitate@carpathia-logistics.ro", "+40 21 323 4551"),
    ("transilvania", "Horia", "Mureșan", "Director IT", "horia.muresan@transilvaniaretail.ro", "+40 740 221 908"),
    ("transilvania", "Carmen", "Rus", "Achiziții", "achizitii@transilvaniaretail.ro", "+40 264 590 105"),
    ("dunarea", "Florin", "Munteanu", "Administrator", "florin.munteanu@dunareaagro.ro", "+40 745 612 004"),
    ("banat", "Adriana", "Kovacs", "Achiziții", "adriana.kovacs@banat-components.ro", "+40 733 508 219"),
    ("moldova", "Cătălin", "Rusu", "IT Manager", "catalin.rusu@moldovapharma.ro", "+40 752 330 871"),
    ("litoral", "Mihaela", "Stan", "Director general", "mihaela.stan@litoralhospitality.ro", "+40 723 900 415"),
    ("brasov", "Dan", "Marinescu", "Manager service", "dan.marinescu@brasovautoparts.ro", "+40 744 207 663"),
    ("nordic", "Lars", "Nielsen", "Managing Director", "lars.nielsen@nordicsoft.ro", "+40 730 118 442"),
    ("nordic", "Oana", "Dinu", "Office manager", "office@nordicsoft.ro", "+40 31 860 4401"),
)


def clients(d: Demo) -> None:
    """Clients: Romanian companies with addresses and contacts"""
    for key, company, vat_code, reg, phone, website, currency, billing, shipping in CLIENTS:
        client = d.clients.get(key)  # a lead converted to a customer already made it
        if client is None:
            client = d.clients[key] = Client(company=company, addedfrom=d.staff_id("Sales Agent"),
                                             datecreated=d.at(-180))
            db.session.add(client)
        for name, value in dict(vat=vat_code, registration_number=reg, phonenumber=phone, website=website,
                                default_currency=d.currencies[currency].id, active=True,
                                **address_columns(billing, shipping)).items():
            setattr(client, name, value)
    for key, first, last, title, email, phone in CONTACTS:
        client = d.clients[key]
        contact = next((c for c in client.contacts if c.email == email), None)
        if contact is None:
            contact = Contact(firstname=first, lastname=last, email=email, is_primary=not client.contacts,
                              datecreated=client.datecreated)
            client.contacts.append(contact)
        contact.title, contact.phonenumber = title, phone


# --- leads and opportunities --------------------------------------------------------------------

LEADS = (  # key, name, company, email, phone, city, county, pipeline, status, source, assigned, value, days ago
    ("carpathia", "Radu Georgescu", "Carpathia Logistics SRL", "radu.georgescu@carpathia-logistics.ro",
     "+40 722 314 551", "Sector 3", "București", "Direct sales", "Proposal sent", "Web form", "Sales Agent",
     "68000", 95),
    ("nordic", "Lars Nielsen", "Nordic Software Solutions SRL", "lars.nielsen@nordicsoft.ro", "+40 730 118 442",
     "Sector 2", "București", "Direct sales", "Proposal sent", "Referral", "Sales Manager", "95000", 80),
    ("dunarea", "Florin Munteanu", "Dunărea Agro SRL", "florin.munteanu@dunareaagro.ro", "+40 745 612 004",
     "Galați", "Galați", "Direct sales", "Qualified", "Facebook Lead Ads", "Sales Agent", "36000", 40),
    ("banat", "Adriana Kovacs", "Banat Industrial Components SRL", "adriana.kovacs@banat-components.ro",
     "+40 733 508 219", "Timișoara", "Timiș", "Partners", "Demo scheduled", "Email", "Sales Manager", "90000", 55),
    ("moldova", "Cătălin Rusu", "Moldova Pharma Distribution SRL", "catalin.rusu@moldovapharma.ro",
     "+40 752 330 871", "Iași", "Iași", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "58000", 30),
    ("petrescu", "Sorin Petrescu", "Petrescu Distribuție SRL", "sorin@petrescudistributie.ro", "+40 744 901 233",
     "Brașov", "Brașov", "Partners", "Qualified", "Manual", "Sales Manager", "52000", 70),
    ("toma", "Elisabeta Toma", "Toma Retail SRL", "elisabeta.toma@tomaretail.ro", "+40 746 300 128",
     "Buzău", "Buzău", "Direct sales", "Proposal sent", "Web form", "Sales Agent", "19000", 35),
    ("vila", "Simona Pavel", "Vila Carpați Boutique Hotel SRL", "rezervari@vilacarpati.ro", "+40 751 220 094",
     "Sinaia", "Prahova", "Direct sales", "New", "Facebook Lead Ads", "SDR", "8500", 2),
    ("neagu", "Alexandru Neagu", "Neagu Construct SRL", "alexandru@neaguconstruct.ro", "+40 724 518 300",
     "Ploiești", "Prahova", "Direct sales", "New", "Excel import", "SDR", "12000", 5),
    ("zambet", "Gabriela Stoica", "Clinica Dentară Zâmbet SRL", "office@clinicazambet.ro", "+40 251 412 090",
     "Craiova", "Dolj", "Direct sales", "Contacted", "Web form", "SDR", "6500", 12),
    ("ene", "Bogdan Ene", "Ene & Fiii Transport SRL", "bogdan.ene@enetransport.ro", "+40 728 009 441",
     "Pitești", "Argeș", "Direct sales", "Contacted", "Manual", "SDR", "15000", 15),
    ("edusmart", "Ioana Matei", "Edu Smart Kids SRL", "ioana.matei@edusmart.ro", "+40 269 210 876",
     "Sibiu", "Sibiu", "Direct sales", "Qualified", "Email", "Sales Agent", "21000", 20),
    ("dobre", "Cristian Dobre", "Dobre Mobila SRL", "contact@dobremobila.ro", "+40 230 520 114",
     "Suceava", "Suceava", "Direct sales", "New", "Excel import", "SDR", "9000", 3),
    ("voicu", "Daniela Voicu", "Farmacia Voicu SRL", "daniela@farmaciavoicu.ro", "+40 234 580 212",
     "Bacău", "Bacău", "Direct sales", "Contacted", "Facebook Lead Ads", "SDR", "4800", 9),
    ("lazar", "Marius Lazăr", "Lazăr Consulting SRL", "marius@lazarconsulting.ro", "+40 259 400 718",
     "Oradea", "Bihor", "Direct sales", "Qualified", "Referral", "Sales Agent", "17500", 25),
    ("iliescu", "Roxana Iliescu", "Iliescu Design Studio SRL", "roxana@iliescudesign.ro", "+40 726 114 590",
     "Sector 1", "București", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "11000", 18),
    ("sarbu", "Diana Sârbu", "Sârbu Medical SRL", "diana.sarbu@sarbumedical.ro", "+40 256 494 300",
     "Timișoara", "Timiș", "Direct sales", "Contacted", "Email", "SDR", "9500", 8),
    ("tehno", "Paul Constantinescu", "Tehno Service Arad SRL", "paul@tehnoservice.ro", "+40 257 280 655",
     "Arad", "Arad", "Partners", "New", "Email", "SDR", "30000", 4),
    ("moldovan", "Larisa Moldovan", "Moldovan IT Partner SRL", "larisa@moldovanit.ro", "+40 740 660 312",
     "Cluj-Napoca", "Cluj", "Partners", "Contacted", "Referral", "Sales Manager", "45000", 21),
    ("barbu", "Anca Barbu", "Barbu Soft Integrator SRL", "anca.barbu@barbusoft.ro", "+40 241 600 901",
     "Constanța", "Constanța", "Partners", "Demo scheduled", "Email", "Sales Manager", "60000", 28),
    ("oprea", "Victor Oprea", "Oprea Net Solutions SRL", "victor@oprea-net.ro", "+40 265 210 478",
     "Târgu Mureș", "Mureș", "Partners", "Proposal sent", "Referral", "Sales Manager", "75000", 45),
    ("ardeleanu", "George Ardeleanu", "Ardeleanu Agro SRL", "george@ardeleanuagro.ro", "+40 258 811 203",
     "Alba Iulia", "Alba", "Partners", "New", "Facebook Lead Ads", "SDR", "7000", 1),
    ("craciun", "Ovidiu Crăciun", "Crăciun Metal SRL", "ovidiu@craciunmetal.ro", "+40 255 213 870",
     "Reșița", "Caraș-Severin", "Direct sales", "Qualified", "Email", "Sales Agent", "23000", 60),
    ("niculescu", "Teodora Niculescu", "Niculescu Events SRL", "teodora@niculescuevents.ro", "+40 729 447 015",
     "Sector 5", "București", "Direct sales", "Demo scheduled", "Web form", "Sales Agent", "14000", 50),
    ("spam", "Test Test", "asdf", "test@test.com", "0000000000", None, None, "Direct sales", "New", "Web form",
     "SDR", None, 7),
)
LOST_LEADS = {"craciun": "Buget amânat pentru anul viitor", "niculescu": "A ales o ofertă concurentă mai ieftină"}
JUNK_LEADS = ("spam",)
LEAD_CLIENTS = {"carpathia": "carpathia", "nordic": "nordic"}  # leads converted to customers


OPPORTUNITIES = (  # lead, opportunity status, probability %, value, expected close (days)
    ("carpathia", "Won", 100, "68000", -36),
    ("nordic", "Won", 100, "95000", -33),
    ("banat", "Negotiation", 70, "90000", 20),
    ("dunarea", "Needs analysis", 40, "36000", 35),
    ("moldova", "Qualification", 20, "58000", 60),
    ("petrescu", "Lost", 0, "52000", -10),
)


def leads(d: Demo) -> None:
    """Leads: captured in every source, moved through both pipelines, lost and junk"""
    for (key, name, company, email, phone, city, county, pipeline, status, source, assigned, value,
         days) in LEADS:
        d.leads[key] = lead = Lead(
            name=name, company=company, email=email, phonenumber=phone, city=city, state=county,
            country=COUNTRY if city else None, pipeline=d.pipelines[pipeline].id,
            status=d.lead_statuses[(pipeline, LEAD_STATUSES[0][0])].id, source=d.sources[source].id,
            assigned=d.staff_id(assigned), addedfrom=d.staff_id("SDR"), dateadded=d.at(-days, 9),
            dateassigned=d.day(-days), lead_value=Decimal(value) if value else None,
            hash=secrets.token_hex(16), website=email.split("@")[1])
        db.session.add(lead)
    db.session.flush()
    for (key, *_, pipeline, status, _source, assigned, _value, days) in LEADS:
        if status != LEAD_STATUSES[0][0]:
            lead, when = d.leads[key], d.at(-days // 2, 15)
            d.act(lead, "change_status", assigned, when, status=d.lead_statuses[(pipeline, status)].id)
            dated(lead, lastcontact=when, last_status_change=when)
    for key, reason in LOST_LEADS.items():
        d.act(d.leads[key], "mark_lost", role_of(d, d.leads[key].assigned), d.at(-5), reason=reason)
    for key in JUNK_LEADS:
        d.act(d.leads[key], "mark_junk", "SDR", d.at(-6))


def role_of(d: Demo, staff_id: int) -> str:
    return next(role for role, member in d.staff.items() if member.staffid == staff_id)


def opportunities(d: Demo) -> None:
    """Opportunities: leads converted, in every opportunity status; the won ones made customers"""
    for key, status, probability, value, close in OPPORTUNITIES:
        lead = d.leads[key]
        role, when = role_of(d, lead.assigned), lead.dateadded + timedelta(days=7)
        d.act(lead, "convert_to_opportunity", role, when)
        opportunity = db.session.query(Lead).filter_by(converted_from_lead=lead.id).one()
        dated(lead, date_converted=when)
        dated(opportunity, dateadded=when)
        # What the salesperson then sets on the opportunity's form.
        opportunity.opportunity_status = d.opportunity_statuses[status].id
        opportunity.probability, opportunity.lead_value = Decimal(probability), Decimal(value)
        opportunity.estimated_close_date = d.day(close)
        d.opportunities[key] = opportunity
        if key in LEAD_CLIENTS:
            won = lead.dateadded + timedelta(days=40)
            d.act(opportunity, "convert_to_customer", role, won)
            client = d.clients[LEAD_CLIENTS[key]] = db.session.get(Client, opportunity.client_id)
            dated(opportunity, date_converted=won)
            dated(client, datecreated=won)
