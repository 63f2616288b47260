"""e-Factura state carried by an invoice (seed addition): where its upload to ANAF stands."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.models.base import StatusEnum, status_column

__all__ = ["EfacturaStatus", "EfacturaInvoice", "EFACTURA_COLUMNS"]


class EfacturaStatus(StatusEnum):
    NOT_SENT = ("not_sent", "Not sent", "secondary")
    UPLOADING = ("uploading", "Uploading", "warning")  # claimed for an upload that has not answered yet
    AWAITING = ("awaiting_validation", "Awaiting Validation", "info")
    OK = ("ok", "OK", "success")
    REJECTED = ("rejected", "Rejected", "danger")
    SEND_FAILED = ("send_failed", "Send failed", "warning")  # ANAF did not take it: send again
    UNCERTAIN = ("uncertain", "Upload uncertain", "warning")  # no answer: ANAF may have it


class EfacturaInvoice:
    """Columns of tblinvoices for e-Factura (sort_order puts them after Perfex's own)."""

    efactura_status: Mapped[str] = status_column(EfacturaStatus, default=EfacturaStatus.NOT_SENT.value,
                                                 server_default=EfacturaStatus.NOT_SENT.value, sort_order=30)
    # ANAF's index_incarcare, kept the moment the upload answers; id_descarcare of the result ZIP.
    efactura_upload_index: Mapped[str | None] = mapped_column(String(40), index=True, sort_order=30)
    efactura_download_id: Mapped[str | None] = mapped_column(String(40), sort_order=30)
    efactura_sent_at: Mapped[datetime | None] = mapped_column(DateTime, sort_order=30)
    efactura_checked_at: Mapped[datetime | None] = mapped_column(DateTime, sort_order=30)
    efactura_next_check: Mapped[datetime | None] = mapped_column(DateTime, index=True, sort_order=30)
    efactura_check_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0", sort_order=30)
    efactura_message: Mapped[str | None] = mapped_column(Text, sort_order=30)  # last result or errors
    efactura_archive: Mapped[str | None] = mapped_column(String(255), sort_order=30)  # the ZIP, under uploads/
    # BT-25: the invoice a credit note (negative total) reverses or corrects, by its number.
    efactura_billing_reference: Mapped[str | None] = mapped_column(String(100), sort_order=30)


# Kept by the e-Factura steps, not typed in the invoice form (the billing reference is).
EFACTURA_COLUMNS = [name for name in EfacturaInvoice.__annotations__ if name != "efactura_billing_reference"]
