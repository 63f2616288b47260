"""Test fixtures. The database comes from TEST_DATABASE_URL (PostgreSQL, MariaDB) or is a SQLite
file; the schema is created by the Alembic migrations, as in production. REDIS_URL, when given,
is used by the job tests against a real Redis."""
from __future__ import annotations

import os
import re
import threading
from datetime import datetime

import pytest
from flask_migrate import upgrade
from sqlalchemy import event

# One process here, so the shared rows (crm/core/shared.py) are forgotten at each commit that
# changes them; their time limit is for other processes, and would make query counts depend on
# the clock. tests/core/test_options.py moves the clock past it where it is the subject.
os.environ.setdefault("CRM_SHARED_CACHE_SECONDS", "3600")

from crm.app import create_app  # noqa: E402
from crm.core.extensions import db  # noqa: E402

ADMIN_EMAIL = "admin@test.example"


def pytest_configure(config):
    """Run the suite's clock from noon of today, ticking: a run that starts before midnight would
    otherwise see two different "todays" (test data built with one, the app checking the other)."""
    import time_machine

    noon = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    config._crm_clock = time_machine.travel(noon, tick=True)
    config._crm_clock.start()


def pytest_unconfigure(config):
    clock = getattr(config, "_crm_clock", None)
    if clock is not None:
        clock.stop()
ADMIN_PASSWORD = "correct horse battery"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    os.environ.pop("REDIS_URL_FOR_APP", None)
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _database_url(tmp_path_factory),
        "REDIS_URL": None,  # jobs inline unless a test opts in
        "JOBS_INLINE": True,  # run in the request after commit: a job's effects are there when it answers
        "CRM_ADMIN_EMAIL": ADMIN_EMAIL,
        "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD,
    })
    with app.app_context():
        _drop_everything()
        upgrade()  # the schema comes from the migrations, as in production
    yield app
    with app.app_context():
        db.session.remove()
        _drop_everything()


def _drop_everything():
    """Remove every table (ours from an earlier run included), whatever the database."""
    import warnings

    from sqlalchemy import MetaData

    with db.engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside a transaction, as SQLite requires
        elif dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
        meta = MetaData()
        meta.reflect(conn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the lead <-> client cycle
            tables = list(reversed(meta.sorted_tables))
        cascade = " CASCADE" if dialect == "postgresql" else ""
        for table in tables:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {conn.dialect.identifier_preparer.quote(table.name)}{cascade}")
        if dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        elif dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
        conn.commit()


def _wipe():
    from crm.core import shared

    db.session.rollback()
    shared.forget_all()  # the tables are emptied behind the application's back
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(t.name for t in db.metadata.sorted_tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            if conn.dialect.name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
            if conn.dialect.name in ("mysql", "mariadb"):
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")


@pytest.fixture(autouse=True)
def _clean(app):
    """Every test starts from an empty database with the roles and an administrator, and the
    process has no roll-up moves toward a fold (it asks for one every FOLD_EVERY moves: a test's
    jobs are then its own, whichever tests ran before it)."""
    from crm.reports import rollup

    rollup._written[0] = 0
    with app.app_context():
        _wipe()
        from crm.cli import _admin_account

        _admin_account(ADMIN_EMAIL, ADMIN_PASSWORD)
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def admin(app, ctx):
    from crm.core.models.settings import Staff

    return db.session.query(Staff).filter_by(email=ADMIN_EMAIL).one()


def make_staff(email, role_name=None, password="pass-1234", admin=False):
    from crm.core.models.settings import Role, Staff

    role = db.session.query(Role).filter_by(name=role_name).one() if role_name else None
    staff = Staff(email=email, firstname=email.split("@")[0].title(), lastname="Test", admin=admin,
                  role=role.roleid if role else None, active=True)
    staff.set_password(password)
    db.session.add(staff)
    db.session.commit()
    return staff


def make_role(name, permissions):
    """A role of one's own (not a documented one), holding exactly ``permissions``."""
    import json

    from crm.core.models.settings import Role

    role = Role(name=name, permissions=json.dumps(sorted(permissions)))
    db.session.add(role)
    db.session.commit()
    return role


def assign_lead(lead_id, staff):
    """Make the lead ``staff``'s own (assigned to them), as a view-own role sees only those."""
    from crm.sales.models.clients import Lead

    db.session.get(Lead, lead_id).assigned = staff.staffid
    db.session.commit()


def at_once(app, work, items, timeout: float = 60) -> tuple[dict, dict]:
    """Real concurrent sessions: ``work(item, ready)`` runs for each item in its own thread, app
    context and database session; each calls ``ready()`` once set up, and all go on together from
    there. Returns ({item: result}, {item: exception raised})."""
    start, results, errors = threading.Barrier(len(items)), {}, {}

    def one(item):
        with app.app_context():
            try:
                results[item] = work(item, start.wait)
            except Exception as exc:  # noqa: BLE001 - handed to the test
                errors[item] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, errors


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or \
        re.search(r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def login(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    page = client.get("/login")
    resp = client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return resp


@pytest.fixture
def admin_client(app):
    client = app.test_client()
    login(client)
    return client


def api_token(client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD) -> dict:
    resp = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.get_json()
    headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    # The first use records "last used" (then once a minute): done here, so tests that count a
    # request's queries count the request's own.
    assert client.get("/api/v1/auth/tokens", headers=headers).status_code == 200
    return headers


@pytest.fixture
def api_headers(app):
    return api_token(app.test_client())


class QueryCounter:
    """The statements run on ``engine`` inside the block: ``count`` and their text."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    @property
    def count(self) -> int:
        return len(self.statements)

    def _on(self, conn, cursor, statement, *args, **kwargs):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._on)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._on)


def get_alone(client, url, **kwargs):
    """``client.get`` in an app context (so a session) of its own, as on a server, even inside a test
    that holds one: in the test's session a request finds what an earlier one loaded, or not, as
    the garbage collector had it, and a query count would move by a lazy load."""
    with client.application.app_context():
        return client.get(url, **kwargs)


@pytest.fixture(autouse=True)
def _push_request_context():
    """Override pytest-flask's: a request context held open for the whole test would make every
    test-client request share one app context (one session, one logged-in user). Each request
    gets its own, as in production."""
    yield


@pytest.fixture
def lead_id(app):
    """A lead in a pipeline, with a status, a source and an opportunity status to convert into."""
    from crm.sales.models.clients import Lead, LeadSource, LeadStatus, OpportunityStatus, Pipeline

    with app.app_context():
        p = Pipeline(name="Direct", isdefault=True)
        db.session.add(p)
        db.session.flush()
        st = LeadStatus(name="Qualified", pipeline=p.id)
        src = LeadSource(name="Web form")
        db.session.add_all([st, src, OpportunityStatus(name="Qualification", isdefault=True)])
        db.session.flush()
        lead = Lead(name="Ion Popescu", company="Popescu Logistic SRL", email="ion@popescu.ro",
                    phonenumber="+40 721 000 000", status=st.id, source=src.id, pipeline=p.id)
        db.session.add(lead)
        db.session.commit()
        return lead.id
