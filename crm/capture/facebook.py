"""Facebook Lead Ads: the webhook (/webhooks/facebook/leads), the job that fetches each announced
lead from the Graph API and the periodic retry.

Facebook announces a lead by its leadgen id only. The webhook checks the signature, records the id
once (unique in tblfacebook_leads, inserted with "on conflict do nothing", so duplicate or
concurrent deliveries record it once) and answers at once; a job fetches the lead, maps its fields
and creates it through :func:`capture_lead`. A worker first *claims* the row (one conditional
UPDATE) and writes the lead only if its claim still holds, so two workers retrying the same id
never create two leads. Failures that can pass (5xx, timeouts) are retried with backoff; the others
wait, with what to do, on the settings screen.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import datetime, timedelta, timezone

from flask import Blueprint, jsonify, request
from sqlalchemy import and_, insert, or_, update

from crm.capture import facebook_client as graph
from crm.capture.facebook_models import FacebookLead, FacebookLeadStatus as S
from crm.capture.leads import FACEBOOK, capture_lead
from crm.capture.models import LEAD_TEXT_FIELDS
from crm.core import options
from crm.core.extensions import csrf, db
from crm.core.jobs import enqueue, job
from crm.core.models.settings import Staff
from crm.core.registry import ActionError

log = logging.getLogger(__name__)

bp = Blueprint("facebook_webhook", __name__)
csrf.exempt(bp)

WEBHOOK_PATH = "/webhooks/facebook/leads"
DEFAULT_MAPPING: dict[str, str] = json.loads(options.OPTIONS["facebook_field_mapping"].default)
JOINED = {"name": " ", "address": ", ", "description": "\n"}  # columns several fields fill together
LEASE = timedelta(minutes=10)  # a claim older than this belongs to a worker that died
MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=6)
ID_RE = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- field mapping ----------------------------------------------------------------------------

def parse_mapping(raw) -> dict[str, str]:
    """{Facebook field name: lead column} from the option's JSON; raises ValueError naming the entry."""
    if raw in (None, ""):
        return dict(DEFAULT_MAPPING)
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(value, dict):
        raise ValueError('expected a JSON object such as {"full_name": "name", "email": "email"}')
    out = {}
    for fb_field, column in value.items():
        fb_field = str(fb_field).strip()
        if not fb_field:
            raise ValueError("a Facebook field name is empty")
        if column not in LEAD_TEXT_FIELDS:
            raise ValueError(f"{fb_field!r} → {column!r}: not a lead column; use one of "
                             + ", ".join(LEAD_TEXT_FIELDS))
        out[fb_field.lower()] = column
    return out


def map_fields(field_data: list[dict], mapping: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    """(lead columns, unmapped (question, answer) pairs) from Graph's field_data."""
    collected: dict[str, list[str]] = {}
    extra = []
    for item in field_data:
        name = str(item.get("name") or "").strip()
        values = item.get("values") or []
        answer = ", ".join(str(v).strip() for v in (values if isinstance(values, list) else [values])
                           if str(v).strip())
        if not name or not answer:
            continue
        column = mapping.get(name.lower())
        if column is None:
            extra.append((name, answer))
        elif answer not in collected.setdefault(column, []):
            collected[column].append(answer)
    lead = {}
    for column, answers in collected.items():
        text = JOINED[column].join(answers) if column in JOINED else answers[0]
        limit = LEAD_TEXT_FIELDS[column]
        lead[column] = text[:limit] if limit else text
    return lead, extra


def lead_values(leadgen_id: str, field_data: list[dict], mapping: dict[str, str]) -> dict:
    values, extra = map_fields(field_data, mapping)
    if extra:  # questions the mapping does not place are kept, readable, in the description
        lines = "\n".join(f"{q.replace('_', ' ')}: {a}" for q, a in extra)
        values["description"] = "\n\n".join(filter(None, [values.get("description"), lines]))
    if not values.get("name"):
        values["name"] = (values.get("email") or values.get("phonenumber") or f"Facebook lead {leadgen_id}")[:191]
    return values


# --- the webhook --------------------------------------------------------------------------------

def _text(message: str, status: int):
    return message, status, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route(WEBHOOK_PATH, methods=["GET"])
def verify():
    """Facebook's subscription check: echo hub.challenge when hub.verify_token is ours."""
    expected = options.get("facebook_verify_token") or ""
    if request.args.get("hub.mode") != "subscribe":
        return _text("Refused: hub.mode must be 'subscribe' (this URL answers Facebook's webhook check).", 403)
    if not expected:
        return _text("Refused: no verify token is configured; set facebook_verify_token at "
                     "/admin/facebookleadsintegration first.", 403)
    if not secrets.compare_digest((request.args.get("hub.verify_token") or "").encode(), expected.encode()):
        return _text("Refused: hub.verify_token does not match facebook_verify_token.", 403)
    return _text(request.args.get("hub.challenge", ""), 200)


@bp.route(WEBHOOK_PATH, methods=["POST"])
def receive():
    body = request.get_data(cache=True)
    secret = options.get("facebook_app_secret") or ""
    if not secret:
        return jsonify(error="facebook_app_secret is not set, so deliveries cannot be verified; set it at "
                             "/admin/facebookleadsintegration.", status=403), 403
    if not graph.signature_ok(secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("Facebook webhook from %s refused: missing or bad X-Hub-Signature-256", request.remote_addr)
        return jsonify(error="X-Hub-Signature-256 is missing or does not match the body signed with the app "
                             "secret.", field="X-Hub-Signature-256", status=403), 403
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        return jsonify(error="The body is not a JSON object.", status=400), 400
    new, seen = record_delivery(payload)
    for row_id in new:
        enqueue(fetch_facebook_lead, row_id)
    db.session.commit()
    return jsonify(received=len(new), duplicates=seen)


def _announced(payload: dict):
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            if isinstance(change, dict) and change.get("field") == "leadgen" and isinstance(change.get("value"), dict):
                yield entry, change["value"]


def _ident(value) -> str | None:
    text = str(value).strip() if value not in (None, "") else ""
    return text if ID_RE.match(text) else None


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _insert_once(values: dict) -> int | None:
    """INSERT the row unless its leadgen id exists (race-safe); its id if this call inserted it."""
    table = FacebookLead.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        mod = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
        stmt = mod.insert(table).values(**values).on_conflict_do_nothing(index_elements=["leadgen_id"])
        return db.session.execute(stmt.returning(table.c.id)).scalar()
    # MySQL / MariaDB: IGNORE turns the duplicate key into "0 rows"
    if db.session.execute(insert(table).values(**values).prefix_with("IGNORE")).rowcount != 1:
        return None
    return db.session.query(FacebookLead.id).filter_by(leadgen_id=values["leadgen_id"]).scalar()


def record_delivery(payload: dict) -> tuple[list[int], int]:
    """Record each announced leadgen id once: (ids of new rows, number already known)."""
    new, seen = [], 0
    for entry, value in _announced(payload):
        leadgen_id = _ident(value.get("leadgen_id"))
        if leadgen_id is None:
            continue
        row = {"leadgen_id": leadgen_id, "page_id": _ident(value.get("page_id") or entry.get("id")),
               "form_id": _ident(value.get("form_id")), "ad_id": _ident(value.get("ad_id")),
               "status": S.RECEIVED.value, "attempts": 0, "received_at": _now(),
               "created_time": _timestamp(value.get("created_time"))}
        row_id = _insert_once(row)
        if row_id is None:
            seen += 1
        else:
            new.append(row_id)
    return new, seen


# --- fetching -----------------------------------------------------------------------------------

def _claim(row_id: int, force: bool) -> str | None:
    """Take the row for this worker (one conditional UPDATE, committed); None if someone else has it."""
    now, token = _now(), secrets.token_hex(16)
    claimable = [S.RECEIVED.value, S.FAILED.value] + ([S.ERROR.value] if force else [])
    res = db.session.execute(
        update(FacebookLead)
        .where(FacebookLead.id == row_id,
               or_(FacebookLead.status.in_(claimable),
                   and_(FacebookLead.status == S.FETCHING.value, FacebookLead.claimed_at < now - LEASE)))
        .values(status=S.FETCHING.value, claim=token, claimed_at=now, attempts=FacebookLead.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return token if res.rowcount == 1 else None


def _finish(row_id: int, token: str, **values) -> bool:
    """Write the outcome only if this worker's claim still holds."""
    res = db.session.execute(
        update(FacebookLead)
        .where(FacebookLead.id == row_id, FacebookLead.claim == token, FacebookLead.status == S.FETCHING.value)
        .values(claim=None, **values).execution_options(synchronize_session=False))
    return res.rowcount == 1


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _failed(row_id: int, token: str, attempts: int, message: str, retry: bool) -> str:
    if retry and attempts >= MAX_ATTEMPTS:
        retry = False
        message = f"Still failing after {attempts} attempts: {message} Press “Retry now” once it is fixed."
    values = {"status": S.FAILED.value if retry else S.ERROR.value, "error": message[:2000],
              "next_attempt_at": _now() + backoff(attempts) if retry else None}
    _finish(row_id, token, **values)
    db.session.commit()
    return message


def _capture(row: FacebookLead, lead: dict):
    mapping = parse_mapping(options.get("facebook_field_mapping"))
    values = lead_values(row.leadgen_id, lead["field_data"], mapping)
    assigned = options.get("facebook_lead_assigned") or None
    if assigned and db.session.get(Staff, assigned) is None:
        assigned = None  # the staff member was removed: the lead stays unassigned rather than lost
    details = {"leadgen_id": row.leadgen_id, "form_id": lead.get("form_id") or row.form_id,
               "ad_id": lead.get("ad_id") or row.ad_id, "page_id": row.page_id,
               "created_time": lead.get("created_time")}
    return capture_lead(values, source=options.get("facebook_lead_source") or FACEBOOK,
                        channel=f"Facebook Lead Ads (form {details['form_id'] or '?'})",
                        status=options.get("facebook_lead_status") or None, assigned=assigned,
                        details=json.dumps(details))


@job
def fetch_facebook_lead(row_id: int, force: bool = False) -> str:
    """Fetch one announced lead from the Graph API and create it (once)."""
    token = _claim(row_id, force)
    if token is None:
        return f"Facebook lead row #{row_id}: already done or being fetched"
    row = db.session.get(FacebookLead, row_id)
    try:
        lead = graph.fetch_lead(row.leadgen_id)
    except graph.GraphError as exc:
        return _failed(row_id, token, row.attempts, exc.message, exc.retry)
    try:
        created = _capture(row, lead)
    except (ActionError, ValueError) as exc:
        db.session.rollback()
        what = getattr(exc, "message", None) or f"facebook_field_mapping: {exc}."
        return _failed(row_id, token, row.attempts, f"The lead could not be created: {what} What to do: correct "
                       "the settings at /admin/facebookleadsintegration (or the pipelines and statuses), then "
                       "press “Retry now”.", retry=False)
    if not _finish(row_id, token, status=S.FETCHED.value, leadid=created.id, error=None, next_attempt_at=None,
                   fetched_at=_now()):
        db.session.rollback()  # another worker took over this row: its lead is the one
        return f"Facebook lead {row.leadgen_id}: taken over by another worker"
    db.session.commit()
    return f"Facebook lead {row.leadgen_id} → lead #{created.id}"


def due_rows(now: datetime | None = None) -> list[int]:
    now = now or _now()
    return list(db.session.scalars(
        db.select(FacebookLead.id).where(or_(
            FacebookLead.status == S.RECEIVED.value,
            and_(FacebookLead.status == S.FAILED.value,
                 or_(FacebookLead.next_attempt_at.is_(None), FacebookLead.next_attempt_at <= now)),
            and_(FacebookLead.status == S.FETCHING.value, FacebookLead.claimed_at < now - LEASE),
        )).order_by(FacebookLead.id).limit(500)))


@job
def retry_facebook_leads() -> str:
    """Every few minutes: fetch the announced leads not fetched yet whose retry time has come."""
    ids = due_rows()
    db.session.commit()
    results = [fetch_facebook_lead(i) for i in ids]
    done = sum(1 for r in results if "→ lead #" in r)
    return f"{len(ids)} Facebook lead(s) due, {done} created"
