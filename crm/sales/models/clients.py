"""CRM: leads and opportunities, their pipelines and statuses, clients, contacts and history."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import MONEY, RATE, BillingShipping, Resource, fk


class Pipeline(db.Model):
    """A sales workflow grouping lead statuses (a seed addition; Perfex has none)."""

    __tablename__ = "tblleads_pipelines"
    __crm__ = Resource(module="settings",
        label="Pipelines", category="Settings", url="leads/pipelines", name="leads_pipelines")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    pipeline_order: Mapped[int] = mapped_column(Integer, default=0)
    isdefault: Mapped[bool] = mapped_column(Boolean, default=False)

    statuses = relationship("LeadStatus", back_populates="pipeline_rel", order_by="LeadStatus.statusorder")

    def __str__(self):
        return self.name


class LeadStatus(db.Model):
    __tablename__ = "tblleads_status"
    __crm__ = Resource(module="settings", label="Lead statuses", category="Settings", url="leads/statuses")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    statusorder: Mapped[int] = mapped_column(Integer, default=0)
    color: Mapped[str] = mapped_column(String(10), default="#28B8DA")
    isdefault: Mapped[bool] = mapped_column(Boolean, default=False)
    pipeline: Mapped[int | None] = fk("tblleads_pipelines.id")

    pipeline_rel = relationship(Pipeline, back_populates="statuses")

    def __str__(self):
        return self.name


class LeadSource(db.Model):
    __tablename__ = "tblleads_sources"
    __crm__ = Resource(module="settings", label="Lead sources", category="Settings", url="leads/sources")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)

    def __str__(self):
        return self.name


class OpportunityStatus(db.Model):
    __tablename__ = "tblopportunity_statuses"
    __crm__ = Resource(module="settings",
        label="Opportunity statuses", category="Settings", url="opportunities/statuses")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    statusorder: Mapped[int] = mapped_column(Integer, default=0)
    color: Mapped[str] = mapped_column(String(10), default="#84C529")
    isdefault: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lost: Mapped[bool] = mapped_column(Boolean, default=False)

    def __str__(self):
        return self.name


class Lead(db.Model):
    """tblleads. Opportunities are leads with ``is_opportunity = 1`` (the seeds' definition)."""

    __tablename__ = "tblleads"
    __crm__ = Resource(module="leads", own=("assigned", "addedfrom"),
        label="Leads", category="Sales", url="leads",
        admin={
            # what an SDR scans a day's leads by, one line each at 1400 px; the pipeline, address, lost
            # reason... are on the lead's page, in the export and in the filters; lost and junk are
            # badges beside the status (flags)
            "column_list": ["name", "company", "email", "phonenumber", "status", "assigned",
                            "lead_value", "dateadded"],
            "column_searchable_list": ["name", "company", "email", "phonenumber"],
            "details_template": "admin/lead_page.html",  # two columns: the lead and its activity
        },
        flags={"lost": "danger", "junk": "secondary"},
        main_actions=("convert_to_opportunity", "create_proposal", "convert_to_customer", "log_call"),
        # from_form_id: the web form that captured it (crm/capture/web_forms.py); client_id and
        # converted_from_lead: set by its conversions
        action_owned=("last_lead_status", "lost", "lost_reason", "junk", "is_opportunity", "last_status_change",
                      "dateassigned", "client_id", "converted_from_lead", "from_form_id"),
        rel_types=("lead",),
    )

    # The home page's "my new leads": one staff member's leads by date added.
    __table_args__ = (Index("ix_tblleads_assigned_dateadded", "assigned", "dateadded"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str | None] = mapped_column(String(65))
    name: Mapped[str] = mapped_column(String(191))
    title: Mapped[str | None] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(191))
    description: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(String(100))
    zip: Mapped[str | None] = mapped_column(String(15))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(255))
    assigned: Mapped[int | None] = fk("tblstaff.staffid")
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    from_form_id: Mapped[int | None] = mapped_column(Integer,
                                                     info={"written_by": "the web form that captured the lead"})
    status: Mapped[int | None] = fk("tblleads_status.id", ondelete="RESTRICT")
    source: Mapped[int | None] = fk("tblleads_sources.id", ondelete="RESTRICT")
    pipeline: Mapped[int | None] = fk("tblleads_pipelines.id", ondelete="RESTRICT")
    lastcontact: Mapped[datetime | None] = mapped_column(DateTime)
    dateassigned: Mapped[date | None] = mapped_column(Date)
    last_status_change: Mapped[datetime | None] = mapped_column(DateTime)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    email: Mapped[str | None] = mapped_column(String(100), index=True)
    website: Mapped[str | None] = mapped_column(String(150))
    leadorder: Mapped[int] = mapped_column(Integer, default=1)
    phonenumber: Mapped[str | None] = mapped_column(String(50))
    date_converted: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # goals: converted leads
    lost: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    lost_reason: Mapped[str | None] = mapped_column(String(255))
    junk: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    last_lead_status: Mapped[int | None] = mapped_column(Integer)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    default_language: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[int | None] = fk("tblclients.userid")
    lead_value: Mapped[Decimal | None] = mapped_column(MONEY)
    # Seed additions: opportunities.
    is_opportunity: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    opportunity_status: Mapped[int | None] = fk("tblopportunity_statuses.id", ondelete="RESTRICT")
    estimated_close_date: Mapped[date | None] = mapped_column(Date, index=True)
    probability: Mapped[Decimal | None] = mapped_column(RATE)
    converted_from_lead: Mapped[int | None] = fk("tblleads.id")

    status_rel = relationship(LeadStatus)
    source_rel = relationship(LeadSource)
    pipeline_rel = relationship(Pipeline)
    assigned_staff = relationship("Staff", foreign_keys=[assigned])
    added_by = relationship("Staff", foreign_keys=[addedfrom])
    client = relationship("Client", foreign_keys=[client_id])
    opportunity_status_rel = relationship(OpportunityStatus)
    origin_lead = relationship("Lead", remote_side=[id])

    def __str__(self):
        return f"{self.name} ({self.company})" if self.company else self.name


class LeadActivityLog(db.Model):
    __tablename__ = "tbllead_activity_log"
    __crm__ = Resource(module="leads", own=("staffid",), label="Lead activity", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    leadid: Mapped[int] = fk("tblleads.id", nullable=False)
    description: Mapped[str] = mapped_column(Text)
    additional_data: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    full_name: Mapped[str | None] = mapped_column(String(100))
    custom_activity: Mapped[bool] = mapped_column(Boolean, default=False)

    lead = relationship(Lead)
    staff = relationship("Staff")


class Client(BillingShipping, db.Model):
    __tablename__ = "tblclients"
    __crm__ = Resource(module="clients", own=("addedfrom",),
        label="Clients", category="Sales", url="clients",
        admin={"column_list": ["company", "vat", "phonenumber", "city", "country", "active", "datecreated"],
               "column_searchable_list": ["company", "vat", "phonenumber"]},
        action_owned=("leadid",),  # the lead it was converted from: set by the lead's convert_to_customer
        rel_types=("customer",),
    )

    userid: Mapped[int] = mapped_column(Integer, primary_key=True)
    company: Mapped[str] = mapped_column(String(191))
    vat: Mapped[str | None] = mapped_column(String(50), index=True)
    registration_number: Mapped[str | None] = mapped_column(String(50))  # Reg. Com. (J40/...) for e-Factura
    phonenumber: Mapped[str | None] = mapped_column(String(30))
    country: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    zip: Mapped[str | None] = mapped_column(String(15))
    state: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(150))
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # tblleads.client_id points back here; this side is added after both tables exist (use_alter).
    leadid: Mapped[int | None] = mapped_column(
        ForeignKey("tblleads.id", ondelete="SET NULL", use_alter=True), index=True,
        info={"written_by": "converting the lead to a customer (POST /api/v1/leads/<id>/actions/convert_to_customer)"})
    default_currency: Mapped[int | None] = fk("tblcurrencies.id")
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")

    lead = relationship(Lead, foreign_keys=[leadid])
    currency_rel = relationship("Currency")
    added_by = relationship("Staff")
    # deleting a client deletes its contacts (the foreign key cascades; loaded ones through the ORM)
    contacts = relationship("Contact", back_populates="client", cascade="save-update, merge, delete",
                            passive_deletes=True)

    def __str__(self):
        return self.company


class Contact(db.Model):
    __tablename__ = "tblcontacts"
    __crm__ = Resource(module="clients", own=("client.addedfrom",),
        label="Contacts", category="Sales", url="clients/contacts",
                       admin={"column_exclude_list": ["password"], "form_excluded_columns": ["password"],
                              "column_details_exclude_list": ["password"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[int] = fk("tblclients.userid", nullable=False)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    firstname: Mapped[str] = mapped_column(String(191))
    lastname: Mapped[str] = mapped_column(String(191), default="")
    email: Mapped[str] = mapped_column(String(100), index=True)
    phonenumber: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    invoice_emails: Mapped[bool] = mapped_column(Boolean, default=True)
    estimate_emails: Mapped[bool] = mapped_column(Boolean, default=True)
    contract_emails: Mapped[bool] = mapped_column(Boolean, default=True)

    client = relationship(Client, back_populates="contacts")

    def __str__(self):
        return f"{self.firstname} {self.lastname}".strip()


class Note(db.Model):
    __tablename__ = "tblnotes"
    __crm__ = Resource(module="leads", own=("addedfrom",), label="Notes")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rel_id: Mapped[int] = mapped_column(Integer, index=True)
    rel_type: Mapped[str] = mapped_column(String(20), index=True)
    description: Mapped[str] = mapped_column(Text)
    date_contacted: Mapped[datetime | None] = mapped_column(DateTime)
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)

    added_by = relationship("Staff")


class Reminder(db.Model):
    __tablename__ = "tblreminders"
    __crm__ = Resource(module="leads", own=("staff", "creator"), label="Reminders", creator="creator")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    date: Mapped[datetime] = mapped_column(DateTime, index=True)
    isnotified: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    rel_id: Mapped[int] = mapped_column(Integer, index=True)
    rel_type: Mapped[str] = mapped_column(String(40), index=True)
    staff: Mapped[int] = fk("tblstaff.staffid", nullable=False)
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True)
    creator: Mapped[int | None] = fk("tblstaff.staffid")

    staff_rel = relationship("Staff", foreign_keys=[staff])
    creator_rel = relationship("Staff", foreign_keys=[creator])


from crm.core.models.records import ActivityLog, File  # noqa: E402,F401  (declared here: same table order)


class SalesActivity(db.Model):
    __tablename__ = "tblsales_activity"
    __crm__ = Resource(module="invoices", own=("staffid",), label="Sales activity", readonly=True)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rel_type: Mapped[str] = mapped_column(String(20), index=True)
    rel_id: Mapped[int] = mapped_column(Integer, index=True)
    description: Mapped[str] = mapped_column(Text)
    additional_data: Mapped[str | None] = mapped_column(Text)
    staffid: Mapped[int | None] = fk("tblstaff.staffid")
    full_name: Mapped[str | None] = mapped_column(String(100))
    date: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)

    staff = relationship("Staff")
