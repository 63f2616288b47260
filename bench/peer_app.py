"""The peer the grids are measured against: a plain Flask-Admin app over the same database.

    from peer_app import create_peer_app
    app = create_peer_app("postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench")
    app.test_client().get("/admin/tblinvoices/?flt0_status_equals=4&page_size=100")

The tables are reflected with SQLAlchemy's ``automap_base`` (no CRM code imported), each with one
plain ``ModelView``: Flask-Admin's defaults (its list template, view/edit/delete row actions with
a delete form each, an exact ``COUNT(*)``, every column listed) plus ``page_size`` chosen by the
URL, ``can_view_details`` and the column filters that bench/grids.py filters by. Nothing is
tuned: it is what a team gets from Flask-Admin before writing any code of its own.
"""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.ext.automap import automap_base

# The tables bench/grids.py measures, and the column each one's filtered page filters by.
TABLES = {
    "tblinvoices": "status",
    "tblleads": "status",
    "tblclients": "active",
    "tblproposals": "status",
    "tblestimates": "status",
    "tblpur_orders": "approve_status",
    "tblgoods_receipt": "approval",
    "tblgoods_delivery": "approval",
}


def create_peer_app(url: str, tables=None) -> Flask:
    app = Flask("crm_peer")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="peer", SQLALCHEMY_TRACK_MODIFICATIONS=False)
    db = SQLAlchemy()
    db.init_app(app)
    tables = tables or TABLES
    with app.app_context():
        Base = automap_base()
        Base.prepare(autoload_with=db.engine, reflection_options={"only": list(tables)})
        admin = Admin(app, name="Peer")
        for table, flt in tables.items():
            model = getattr(Base.classes, table, None)
            if model is None:
                continue
            view_cls = type(f"{table}View", (ModelView,), {
                "can_view_details": True,
                "column_default_sort": (model.__table__.primary_key.columns.values()[0].name, True),
                "can_set_page_size": True,
                "page_size_options": (20, 50, 100),
                "column_filters": [flt] if flt in model.__table__.c else [],
            })
            admin.add_view(view_cls(model, db.session, name=table, endpoint=table))
    app.extensions["peer_db"] = db
    return app
