"""The unsubscribe link of marketing campaigns: GET asks, POST records the opt-out (a mail scanner
that follows links does not unsubscribe anyone)."""
from __future__ import annotations

from flask import abort, render_template, request

from crm.core import options
from crm.core.extensions import db
from crm.sales.actions import campaigns
from crm.sales.models.marketing import CampaignRecipient
from crm.sales.portal.views import _ip, bp


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token):
    row = db.session.query(CampaignRecipient).filter_by(token=token).one_or_none()
    if row is None:
        abort(404)
    company = options.get("companyname")
    if request.method == "POST":
        campaigns.unsubscribe(token, _ip())
        return render_template("portal/notice.html", title="Unsubscribed",
                               message=f"{row.email} will receive no more campaigns from {company}.")
    return render_template("portal/unsubscribe.html", email=row.email, company=company)
