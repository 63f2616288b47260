"""Settings from the environment, with embedded defaults so `make run` needs nothing."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1].parent  # the checkout: templates, migrations, instance


def _secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in the instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def _database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{Path(instance_path) / 'crm.sqlite'}"
    # PaaS providers hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    elif url.startswith(("mysql://", "mariadb://")):
        url = "mysql+pymysql://" + url.split("://", 1)[1]
    return url


def finish(app) -> None:
    """Settings that depend on the final database URL (after create_app's overrides).

    MariaDB/MySQL run READ COMMITTED, as PostgreSQL does by default, so the code sees the same
    thing on both: each statement reads what other transactions committed before it (InnoDB's
    REPEATABLE READ would make an INSERT … SELECT lock the rows it reads and its DELETEs lock
    gaps, so writers of the same report roll-up rows deadlocked)."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() in ("mysql", "mariadb"):
        options.setdefault("isolation_level", "READ COMMITTED")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def load(app) -> None:
    c = app.config
    c["SECRET_KEY"] = _secret_key(app.instance_path)
    c["SQLALCHEMY_DATABASE_URI"] = _database_url(app.instance_path)
    c["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    c["REDIS_URL"] = os.environ.get("REDIS_URL") or None
    # The demo: stand-ins of the outside services served by the app at /sandbox/<name>
    c["CRM_SANDBOX"] = os.environ.get("CRM_SANDBOX", "0") == "1"
    c["RQ_QUEUE"] = os.environ.get("RQ_QUEUE", "default")
    # Without Redis the jobs run on a background thread of the process; 1 runs them in the request
    # that queued them, right after its commit (the tests' setting)
    c["JOBS_INLINE"] = os.environ.get("JOBS_INLINE", "0") == "1"
    # processes printing PDFs beside the app; unset: 1 where jobs run on the thread, else 0 (crm/core/pdf_processes.py)
    c["PDF_PROCESSES"] = int(os.environ["PDF_PROCESSES"]) if os.environ.get("PDF_PROCESSES") else None
    c["GRID_COUNT_CAP"] = int(os.environ.get("GRID_COUNT_CAP", "10000") or 0)  # grids count up to this ("10,000+")
    c["WTF_CSRF_TIME_LIMIT"] = None  # tokens live as long as the session
    c["SESSION_COOKIE_HTTPONLY"] = True
    c["SESSION_COOKIE_SAMESITE"] = "Lax"
    c["SESSION_COOKIE_SECURE"] = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # Proxies in front of the app (a PaaS router, nginx): the client's address is then read from
    # X-Forwarded-For, as failed-login limits per address and web-form limits need it.
    c["TRUSTED_PROXIES"] = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)
    c["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_CONTENT_LENGTH", 32 * 1024 * 1024))
    c["CRM_ADMIN_EMAIL"] = os.environ.get("CRM_ADMIN_EMAIL", "admin@crmconnect.test")
    c["CRM_ADMIN_PASSWORD"] = os.environ.get("CRM_ADMIN_PASSWORD", "admin1234")
