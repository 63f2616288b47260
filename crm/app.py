"""CRMConnect: a back office for the whole commercial cycle, generated over the database schema."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, flash, redirect, request
from flask_wtf.csrf import CSRFError

from crm.core import sqlite  # noqa: F401  (SQLite: foreign keys, WAL, and the write lock taken before a check)
from crm.core.config import ROOT


def create_app(overrides: dict | None = None) -> Flask:
    # cycle: importing any crm.* module runs this package first, so the app is wired here, not at import
    from crm.core import config
    from crm.core.extensions import csrf, db, login_manager, migrate

    app = Flask(__name__, template_folder=str(ROOT / "templates"), instance_path=str(ROOT / "instance"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    # The seed documents write screen URLs without the trailing slash (/admin/leads): serve both.
    app.url_map.strict_slashes = False
    config.load(app)
    if overrides:
        app.config.update(overrides)
    config.finish(app)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)

    from crm import models  # noqa: F401  (register every table)
    from crm import actions  # noqa: F401  (register every action)
    from crm.sales import area as sales
    from crm.warehouse import area as warehouse
    from crm.purchasing import area as purchasing
    _install_commit_pipeline()
    from crm.core import company
    from crm.admin_views.menu import init_admin
    from crm.admin_views.trace import init_trace
    from crm.api import init_api
    from crm.core.auth import bp as auth_bp
    from crm.capture.web_forms import bp as capture_bp
    from crm.cli import crm_cli
    from crm.core.documents import bp as documents_bp
    from crm.capture.facebook import bp as facebook_bp
    from crm.shipping.views import bp as labels_bp

    app.jinja_env.globals["company_profile"] = company.profile  # the seller in every email's footer
    app.register_blueprint(auth_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(capture_bp)  # public lead-capture forms (/forms/wtl/...)
    app.register_blueprint(facebook_bp)  # /webhooks/facebook/leads
    app.register_blueprint(labels_bp)  # AWB labels
    for area in (sales, warehouse, purchasing):  # each area's declarations and public pages
        area.register(app)
    if app.config.get("CRM_SANDBOX"):
        from crm.sandbox import mount

        mount(app)
    from crm.online_payments.portal import webhooks as webhooks_bp

    app.register_blueprint(webhooks_bp)  # /webhooks/stripe: signed by Stripe, so no CSRF token
    csrf.exempt(webhooks_bp)
    init_api(app)
    init_admin(app)
    from crm.core.jobs import init_app as init_jobs

    init_jobs(app)  # without Redis: the background job thread, started with the first request
    _register_pages(app)
    app.cli.add_command(crm_cli)
    init_trace(app, app.extensions["admin"][0])  # /admin/trace/..., /api/v1/<resource>/<id>/trace
    from crm.core.audit import init_audit

    init_audit(app)  # details pages show the audit trail

    from crm.core.bad_input import init_bad_input

    init_bad_input(app)  # no 500 for a value the database cannot take
    from crm.core.framing import init_framing

    init_framing(app)  # X-Frame-Options / frame-ancestors on every page but the embeddable forms

    @app.errorhandler(CSRFError)
    def _csrf_expired(exc):
        flash("The form expired or was not sent from this site; please try again.", "error")
        target = request.referrer if (request.referrer or "").startswith(request.host_url) else request.path
        return redirect(target if request.method == "POST" and target != request.url else "/")

    @app.teardown_request
    def _rollback_unfinished(exc):
        if exc is not None:
            db.session.rollback()

    return app


def _install_commit_pipeline() -> None:
    """The session hooks and the business events' subscribers, wired here, never by importing a
    module: each module registers its stages, and crm/core/commit_pipeline.py states the order they
    run in (the modules are listed in that order)."""
    from crm.core import audit, commit_pipeline, events, jobs, options
    from crm.core import activity, attachments, registry, shared
    from crm.warehouse.actions import deliveries, physical_inventory, reservations, stock
    from crm.purchasing.actions import backorders, purchase_orders, receiving
    from crm.shipping import actions as shipping
    from crm.notifications import assignment, notify
    from crm.reports import rollup
    from crm.webhooks import subscriber

    commit_pipeline.install([rollup, deliveries, physical_inventory, events, reservations, assignment, audit,
                             activity, shipping, receiving, purchase_orders, subscriber, backorders,
                             notify, jobs, attachments, stock, options, registry, shared], subscribe=events.subscribe)


def _register_pages(app) -> None:
    """Each area's panels and amounts on record pages (crm/core/pages.py) and the page helpers."""
    from crm.admin_views import document_page
    from crm.efactura import views as efactura_views
    from crm.purchasing import views as purchasing_views
    from crm.sales.views import pages as sales_pages
    from crm.shipping import views as shipping_views
    from crm.warehouse.views import pages as warehouse_pages

    for area in (sales_pages, warehouse_pages, purchasing_views, shipping_views, efactura_views, document_page):
        area.register_pages()
    document_page.init_app(app)
