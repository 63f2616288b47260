"""The admin menu: one generated view per table plus each area's screens, grouped as the seed documents
group them; create_app calls init_admin."""
from __future__ import annotations

from flask import url_for
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from crm.admin_views import formats
from crm.admin_views.action_forms import PickView
from crm.admin_views.api_tokens import ApiTokensView
from crm.admin_views.audit import audit_view
from crm.admin_views.factory import CrmModelView, build_view
from crm.admin_views.home import HomeView
from crm.admin_views.jobs import JobsView
from crm.admin_views.roles import role_view
from crm.admin_views.saved_views import init_saved_views
from crm.admin_views.search import init_search
from crm.admin_views.settings import CompanyProfileView, OptionsView
from crm.admin_views.staff import staff_view
from crm.capture.facebook_views import FacebookLeadsView
from crm.capture.models import LeadImport, WebToLead
from crm.capture.views import capture_screens, own_imports, web_forms_view
from crm.core.models.settings import Role, Staff
from crm.core.registry import DETAILS_URL_RESOLVERS
from crm.core.resources import CATEGORIES, resource_of
from crm.efactura.views import efactura_views
from crm.models import all_models
from crm.notifications.views import init_notifications
from crm.purchasing.views import CompareView
from crm.sales.models.clients import Lead
from crm.sales.models.documents import Goal
from crm.sales.views.board import PipelineBoardView
from crm.sales.views.goals import goal_view
from crm.sales.views.weighted_pipeline import WeightedPipelineView
from crm.warehouse.views.stock_reports import StockReportsView
from crm.webhooks.views import webhook_view


def _opportunity_page(obj) -> str | None:
    """An opportunity's page is under Opportunities (the Leads view shows leads only)."""
    if isinstance(obj, Lead) and obj.is_opportunity:
        return url_for("opportunities.details_view", id=obj.id)
    return None


if _opportunity_page not in DETAILS_URL_RESOLVERS:
    DETAILS_URL_RESOLVERS.append(_opportunity_page)


def _extra_views():
    """Views that show part of a table at the URL the seeds give it."""
    return [
        # Opportunities are leads with is_opportunity = 1 and are listed apart from leads.
        build_view(Lead, endpoint="opportunities", url="opportunities", label="Opportunities", category="Sales",
                   where=lambda m: m.is_opportunity.is_(True), create_defaults={"is_opportunity": True},
                   admin={"column_list": ["name", "company", "opportunity_status", "lead_value", "probability",
                                          "estimated_close_date", "assigned", "pipeline", "source"]}),
    ]


def init_admin(app) -> Admin:
    formats.init_app(app)  # money, qty, when, tax: jinja filters for every screen
    admin = Admin(app, name="CRMConnect", theme=Bootstrap4Theme(base_template="admin/crm_base.html", fluid=True),
                  index_view=HomeView(name="Home", url="/admin", endpoint="admin"))
    views = []
    for model in all_models():
        if model is Role:
            views.append(role_view())
        elif model is Staff:
            views.append(staff_view())
        elif model is Lead:
            views.append(build_view(Lead, where=lambda m: m.is_opportunity.is_(False)))
        elif model is Goal:
            views.append(goal_view())
        elif model is WebToLead:
            views.append(web_forms_view())
        elif model is LeadImport:
            views.append(build_view(LeadImport, where=own_imports))
        elif model.__tablename__ == "tblwebhooks":
            views.append(webhook_view())
        elif model.__tablename__ == "tblaudit_log":
            views.append(audit_view())
        else:
            views.append(build_view(model))
    views += _extra_views()
    order = {c: i for i, c in enumerate(CATEGORIES)}
    views.sort(key=lambda v: (order.get(v.category, len(order)), v.name != "Leads", v.name))
    for view in views:
        if view.category is None:
            view.is_visible = lambda: False  # detail tables: reachable, not in the menu
        admin.add_view(view)
    admin.add_view(PipelineBoardView(name="Pipeline board", category="Sales", endpoint="leads_board",
                                     url="/admin/leads/board"))

    admin.add_view(StockReportsView(name="Stock reports", category="Warehouse", endpoint="stock_reports",
                                    url="/admin/warehouse/reports"))

    admin.add_view(WeightedPipelineView(name="Weighted pipeline", category="Sales", endpoint="weighted_pipeline",
                                        url="/admin/opportunities/pipeline"))
    # cycle: admin_views.reports -> reports.view -> admin_views
    from crm.reports.screens import LeadsReportView, SalesOverviewView, SalesReportView

    admin.add_view(SalesOverviewView(name="Sales overview", category="Reports", endpoint="reports_overview",
                                     url="/admin/sales"))
    admin.add_view(SalesReportView(name="Sales report", category="Reports", endpoint="reports_sales",
                                   url="/admin/reports/sales"))
    admin.add_view(LeadsReportView(name="Leads report", category="Reports", endpoint="reports_leads",
                                   url="/admin/reports/leads"))
    admin.add_view(CompanyProfileView(name="Company profile", category="Settings", endpoint="company_profile",
                                      url="/admin/company"))
    admin.add_view(OptionsView(name="Options", category="Settings", endpoint="settings", url="/admin/settings"))
    admin.add_view(OptionsView(name="Invoice series", category="Settings", endpoint="billing_config",
                               url="/admin/billing/config", groups=("Invoices", "Sales orders", "Proposals")))
    admin.add_view(OptionsView(name="Innoship (courier)", category="Settings", endpoint="innoship",
                               url="/admin/innoship", groups=("Innoship",)))
    admin.add_view(JobsView(name="Jobs", category="Settings", endpoint="jobs", url="/admin/jobs"))
    for view in capture_screens():  # /admin/leads/email_integration, /admin/excelimport
        admin.add_view(view)

    admin.add_view(FacebookLeadsView(name="Facebook Lead Ads", category="Sales", endpoint="facebookleadsintegration",
                                     url="/admin/facebookleadsintegration"))

    admin.add_view(CompareView(name="Compare quotations", endpoint="purchase_compare", url="/admin/purchase/compare"))

    for view in efactura_views():  # /admin/billing/efactura, the invoice's e-Factura files
        admin.add_view(view)
    init_notifications(admin, app)  # /admin/notifications and the navbar bell

    admin.add_view(ApiTokensView(name="API tokens", endpoint="my_api_tokens", url="/admin/my-api-tokens"))
    admin.add_view(PickView(name="Pick", endpoint="crm_pick", url="/admin/pick"))
    init_saved_views(admin, app)  # the grid's "Views" menu
    init_search(admin)  # Ctrl+K: /admin/search
    return admin


__all__ = ["init_admin", "build_view", "CrmModelView", "resource_of"]
