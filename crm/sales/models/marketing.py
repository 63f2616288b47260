"""Marketing campaigns: one email to an audience of leads (by status, source, pipeline) and/or client
contacts, each recipient recorded once, and the addresses that opted out.

Not Perfex tables (Perfex has no campaigns); named in its style. A recipient row is unique per
campaign and address, so however often the sending job runs nobody gets a campaign twice; the
outbox row (tblemail_outbox) it points at says whether it was delivered.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from crm.core.extensions import db
from crm.core.models.base import Resource, StatusEnum, fk, status_column

__all__ = ["CampaignStatus", "MarketingCampaign", "RecipientStatus", "CampaignRecipient", "MarketingUnsubscribe"]


class CampaignStatus(StatusEnum):
    DRAFT = ("draft", "Draft", "secondary")
    SCHEDULED = ("scheduled", "Scheduled", "info")
    SENDING = ("sending", "Sending", "primary")
    SENT = ("sent", "Sent", "success")


class MarketingCampaign(db.Model):
    """tblmarketing_campaigns: subject and HTML body with {merge_fields}, the audience, when to send."""

    __tablename__ = "tblmarketing_campaigns"
    __crm__ = Resource(module="marketing", own=("addedfrom",),
        label="Marketing campaigns", category="Sales", url="marketing/campaigns",
        admin={"column_list": ["name", "subject", "status", "scheduled_at", "sent_at", "datecreated"],
               "column_searchable_list": ["name", "subject"],
               "form_excluded_columns": ["recipients"]},
        action_owned=("status", "scheduled_at", "sent_at", "skipped_no_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(191))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)  # HTML; {name}, {lead_company}, ... merged per recipient
    # The audience: leads (narrowed by status / source / pipeline when set) and/or active contacts.
    audience_leads: Mapped[bool] = mapped_column(Boolean, default=True)
    lead_status: Mapped[int | None] = fk("tblleads_status.id")
    lead_source: Mapped[int | None] = fk("tblleads_sources.id")
    lead_pipeline: Mapped[int | None] = fk("tblleads_pipelines.id")
    include_lost: Mapped[bool] = mapped_column(Boolean, default=False)  # junk leads are never included
    audience_contacts: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = status_column(CampaignStatus, default=CampaignStatus.DRAFT.value)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)  # UTC
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    skipped_no_email: Mapped[int] = mapped_column(Integer, default=0)  # audience members without an address
    addedfrom: Mapped[int | None] = fk("tblstaff.staffid")
    datecreated: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow, index=True)

    lead_status_rel = relationship("LeadStatus")
    lead_source_rel = relationship("LeadSource")
    lead_pipeline_rel = relationship("Pipeline")
    added_by = relationship("Staff")

    def __str__(self):
        return self.name


class RecipientStatus(StatusEnum):
    QUEUED = ("queued", "Email queued", "info")  # delivery state: the outbox row
    UNSUBSCRIBED = ("unsubscribed", "Skipped: unsubscribed", "warning")


class CampaignRecipient(db.Model):
    """tblmarketing_campaign_recipients: who a campaign went to (or skipped), once per address."""

    __tablename__ = "tblmarketing_campaign_recipients"
    __crm__ = Resource(module="marketing", label="Campaign recipients", readonly=True,
                       admin={"column_list": ["campaign_id", "email", "lead_id", "contact_id", "status",
                                              "outbox_id", "dateadded"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = fk("tblmarketing_campaigns.id", nullable=False)
    lead_id: Mapped[int | None] = fk("tblleads.id")
    contact_id: Mapped[int | None] = fk("tblcontacts.id")
    email: Mapped[str] = mapped_column(String(191))  # lower-cased
    outbox_id: Mapped[int | None] = fk("tblemail_outbox.id")
    status: Mapped[str] = status_column(RecipientStatus, default=RecipientStatus.QUEUED.value)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # the unsubscribe link's key
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    __table_args__ = (UniqueConstraint("campaign_id", "email"),)

    # Deleting a campaign deletes its recipient rows (the database's ON DELETE CASCADE).
    campaign = relationship(MarketingCampaign, backref=backref("recipients", cascade="all, delete-orphan",
                                                               passive_deletes=True))
    outbox = relationship("EmailOutbox")

    def __str__(self):
        return self.email


class MarketingUnsubscribe(db.Model):
    """tblmarketing_unsubscribes: addresses no campaign is sent to again."""

    __tablename__ = "tblmarketing_unsubscribes"
    __crm__ = Resource(module="marketing",
        label="Unsubscribed addresses", category="Sales", url="marketing/unsubscribes",
                       admin={"column_list": ["email", "campaign_id", "dateadded"],
                              "column_searchable_list": ["email"]})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(191), unique=True)  # lower-cased
    campaign_id: Mapped[int | None] = fk("tblmarketing_campaigns.id")  # the campaign whose link was used
    ip: Mapped[str | None] = mapped_column(String(45))
    dateadded: Mapped[datetime] = mapped_column(DateTime, default=datetime.utcnow)

    campaign = relationship(MarketingCampaign)

    def __str__(self):
        return self.email
