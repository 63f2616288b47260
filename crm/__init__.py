"""CRMConnect: a back office for the whole commercial cycle, generated over the database schema."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, flash, redirect, request
from flask_wtf.csrf import CSRFError

from . import sqlite  # noqa: F401  (SQLite: foreign keys, WAL, and the write lock taken before a check)

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    from . import config
    from .extensions import csrf, db, login_manager, migrate

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

    from . import models  # noqa: F401  (register every table)
    from . import actions  # noqa: F401  (register every action)
    _install_commit_pipeline()
    from . import company
    from .admin_views import init_admin
    from .api import init_api
    from .auth import bp as auth_bp
    from .capture.web_forms import bp as capture_bp
    from .cli import crm_cli
    from .portal import bp as portal_bp

    app.jinja_env.globals["company_profile"] = company.profile  # the seller in every email's footer
    app.register_blueprint(auth_bp)
    app.register_blueprint(__import__("crm.documents", fromlist=["bp"]).bp)
    app.register_blueprint(capture_bp)  # public lead-capture forms (/forms/wtl/...)
    app.register_blueprint(__import__("crm.capture.facebook", fromlist=["bp"]).bp)  # /webhooks/facebook/leads
    app.register_blueprint(portal_bp)  # client portal (/portal/<kind>/<id>/<hash>), no staff login
    app.register_blueprint(__import__("crm.admin_views.shipping", fromlist=["bp"]).bp)  # AWB labels
    app.register_blueprint(__import__("crm.admin_views.physical_inventory", fromlist=["bp"]).bp)  # count sheets
    if app.config.get("CRM_SANDBOX"):
        from .sandbox import mount

        mount(app)
    from .portal.payments import webhooks as webhooks_bp

    app.register_blueprint(webhooks_bp)  # /webhooks/stripe: signed by Stripe, so no CSRF token
    csrf.exempt(webhooks_bp)
    init_api(app)
    init_admin(app)
    app.cli.add_command(crm_cli)
    from .traceability import init_trace
    from .vendor_portal import bp as vendor_portal_bp

    app.register_blueprint(vendor_portal_bp)  # vendor portal (/vendor/<kind>/<id>/<hash>), no staff login
    init_trace(app, app.extensions["admin"][0])  # /admin/trace/..., /api/v1/<resource>/<id>/trace
    __import__("crm.audit", fromlist=["init_audit"]).init_audit(app)  # details pages show the audit trail

    from .bad_input import init_bad_input

    init_bad_input(app)  # no 500 for a value the database cannot take
    from .framing import init_framing

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
    module: each module registers its stages, and crm/commit_pipeline.py states the order they
    run in (the modules are listed in that order)."""
    from . import audit, commit_pipeline, events, jobs, options
    from .actions import (activity, attachments, deliveries, goods_receipts, physical_inventory, purchase_orders,
                          reservations, shipping, stock)
    from .notifications import assignment, notify
    from .reports import rollup
    from .webhooks import subscriber

    commit_pipeline.install([rollup, deliveries, physical_inventory, events, reservations, assignment, audit,
                             activity, shipping, purchase_orders, subscriber, goods_receipts, notify, jobs,
                             attachments, stock, options], subscribe=events.subscribe)
