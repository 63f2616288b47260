"""Staff login, roles and permissions.

Permission keys: ``<module>.<verb>`` for tables (module and verbs: crm/core/permissions.py) and
``action:<resource>.<action>`` for actions. Admin staff (``tblstaff.admin``) hold them all.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from crm.core.extensions import db, login_manager
from crm.core.models.settings import ApiToken, Staff, revoke_api_tokens
from crm.core.ratelimit import add, forget, recent, seconds_until

TOKEN_MAX_AGE = 12 * 3600


# --- API tokens ------------------------------------------------------------------------
# An opaque random secret; the database keeps its sha256 (a lookup key: the secret has 256 bits,
# so a slow hash adds nothing). Nothing in it derives from the password.

TOKEN_PREFIX = "crm_"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(staff, name: str | None = None) -> str:
    """A new bearer token for ``staff``, valid TOKEN_MAX_AGE seconds (the caller commits)."""
    return new_token(staff, name)[1]


def new_token(staff, name: str | None = None):
    """(token row, secret): the row is added to the session (the caller commits); the secret is
    returned once and never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.utcnow()
    # Keep the list short: what expired a month ago is of no more interest.
    db.session.query(ApiToken).filter(ApiToken.staffid == staff.staffid,
                                      ApiToken.expires_at < now - timedelta(days=30)).delete(synchronize_session=False)
    row = ApiToken(staffid=staff.staffid, name=(name or "").strip()[:100] or "API token",
                   hash=_token_hash(secret), created_at=now, expires_at=now + timedelta(seconds=TOKEN_MAX_AGE))
    db.session.add(row)
    db.session.flush()
    return row, secret


def token_record(token: str):
    """The valid (not revoked, not expired) token row for a bearer secret, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # the staff member with the token: one statement per API request, not two
    row = db.session.execute(select(ApiToken).join(ApiToken.staff).options(contains_eager(ApiToken.staff))
                             .where(ApiToken.hash == _token_hash(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= datetime.utcnow():
        return None
    return row


def staff_from_token(token: str):
    """The active staff member a bearer token names, or None (unknown, expired, revoked: a password
    change, a deactivation or "sign out everywhere" revokes them all)."""
    row = token_record(token)
    if row is None or not row.staff.active:
        return None
    if has_request_context():
        g.api_token_id = row.id  # marks "this token" in the list
    now = datetime.utcnow()
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):  # a write a minute at most
        row.last_used_at = now
        db.session.commit()
    return row.staff


def revoke_token(token_row) -> None:
    if token_row.revoked_at is None:
        token_row.revoked_at = datetime.utcnow()


def sign_out_everywhere(staff) -> None:
    """End every browser session and revoke every API token of ``staff`` (the caller commits)."""
    staff.end_sessions()
    revoke_api_tokens(db.session.connection(), staff.staffid)


# --- failed logins: slow down, then refuse ---------------------------------------------------
# Counted per account (the email typed, known or not, so a refusal tells nothing about which
# accounts exist) and per client address, in tblrate_limit_hits; both doors (login page, token
# endpoint) share them. Past ``free`` failures in the window each new try waits 2, 4, 8 ... seconds
# after the last failure; at ``most`` failures the key is refused until the oldest leaves the window.

def _throttle_rules() -> list[tuple[str, tuple[int, int]]]:
    c = current_app.config
    return [("account", c.get("LOGIN_ACCOUNT_FAILURES", (3, 10))), ("address", c.get("LOGIN_ADDRESS_FAILURES", (10, 30)))]


def _throttle_keys(email: str) -> dict[str, str]:
    account = hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:40]
    return {"account": f"login:account:{account}", "address": f"login:address:{request.remote_addr or 'unknown'}"}


def _window() -> int:
    return int(current_app.config.get("LOGIN_FAILURE_WINDOW", 15 * 60))


def login_refused(email: str) -> tuple[int, str] | None:
    """(seconds to wait, message) when this email or this address must wait before trying again."""
    now, window, keys = datetime.utcnow(), _window(), _throttle_keys(email)
    for what, (free, most) in _throttle_rules():
        count, oldest, newest = recent(keys[what], window, now)
        if count >= most:
            until = oldest + timedelta(seconds=window)
        elif count >= free:
            until = newest + timedelta(seconds=2 ** (count - free + 1))
        else:
            continue
        if until > now:
            wait = seconds_until(until, now)
            whose = "for this account" if what == "account" else "from your address"
            return wait, f"Too many failed logins {whose}; try again in {wait} second{'s' if wait > 1 else ''}."
    return None


def login_failed(email: str) -> None:
    now, keys = datetime.utcnow(), _throttle_keys(email)
    for key in keys.values():
        add(key, now, forget_before=now - timedelta(seconds=_window()))


def login_succeeded(email: str) -> None:
    """A success clears the account's failures (not the address's: one good account would else
    reset the count of an address trying many)."""
    forget(_throttle_keys(email)["account"])


@lru_cache
def _dummy_hash() -> str:
    """Checked when the email names no usable account, so the answer takes as long as for a real one."""
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email: str, password: str):
    """The active staff member with this email and password, or None. One password hash is checked
    whatever the email, so the time taken does not tell which accounts exist."""
    staff = db.session.query(Staff).filter(Staff.email == (email or "").strip().lower()).one_or_none()
    usable = staff is not None and bool(staff.password)
    ok = check_password_hash(staff.password if usable else _dummy_hash(), password or "")
    if ok and usable and staff.active:
        return staff
    return None


@login_manager.user_loader
def load_user(user_id: str):
    """The staff member a session cookie names, if still active and the cookie carries the current
    session version (a logout, a password change or a deactivation has raised it otherwise)."""
    staffid, _, version = (user_id or "").partition(":")
    if not staffid.isdigit() or not version.isdigit():
        return None  # a cookie from before session versions: sign in again
    staff = db.session.get(Staff, int(staffid))
    if staff is None or not staff.active or staff.session_version != int(version):
        return None
    return staff


# --- login pages -----------------------------------------------------------------------

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    # Only looked up, never mailed: no deliverability rules (demo accounts use the .test domain).
    email = EmailField("Email", validators=[DataRequired(message="Enter your email.")])
    password = PasswordField("Password", validators=[DataRequired()])


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        refused = login_refused(email)
        if refused:
            wait, message = refused
            flash(message, "error")
            resp = make_response(render_template("auth/login.html", form=form), 429)
            resp.headers["Retry-After"] = str(wait)
            return resp
        staff = authenticate(email, form.password.data)
        if staff:
            login_succeeded(email)
            login_user(staff)
            staff.last_login = datetime.utcnow()
            db.session.commit()
            nxt = request.args.get("next", "")
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else url_for("admin.index"))
        login_failed(email)
        db.session.commit()
        flash("Email or password is wrong.", "error")
    return render_template("auth/login.html", form=form), (401 if request.method == "POST" else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    """Signs the staff member out of every browser (``everywhere``: and revokes their API tokens)."""
    if current_user.is_authenticated:
        if request.form.get("everywhere"):
            sign_out_everywhere(current_user)
        else:
            current_user.end_sessions()
        db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/")
def root():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))
