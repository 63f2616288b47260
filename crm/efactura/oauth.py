"""ANAF OAuth: the "Connect to ANAF" authorization-code flow, token storage and refresh."""
from __future__ import annotations

from datetime import datetime, timedelta

from crm.core import options
from crm.core.extensions import db
from crm.efactura.anaf import AnafError, OAuthClient, jwt_expiry


def oauth_client(redirect_uri: str) -> OAuthClient:
    return OAuthClient(options.get("efactura_oauth_url"), options.get("efactura_client_id"),
                       options.get("efactura_client_secret"), options.get("efactura_redirect_uri") or redirect_uri,
                       timeout=options.get("efactura_timeout"))


def missing_client_settings() -> str | None:
    if not options.get("efactura_client_id") or not options.get("efactura_client_secret"):
        return ("Enter the OAuth client id and secret (registered in ANAF's SPV for this application) "
                "and save before connecting.")
    return None


def store_tokens(data: dict) -> datetime | None:
    """Keep the access token and the refresh token ANAF returned (a refresh returns a new one)."""
    access = data["access_token"]
    expires = jwt_expiry(access)
    if expires is None and data.get("expires_in"):
        expires = datetime.utcnow() + timedelta(seconds=int(data["expires_in"]))
    options.set("efactura_access_token", access)
    if data.get("refresh_token"):
        options.set("efactura_refresh_token", data["refresh_token"])
    options.set("efactura_token_expires", expires.strftime("%Y-%m-%d %H:%M:%S") if expires else "")
    options.set("efactura_token_status", "active")
    return expires


def token_info() -> dict:
    token = options.get("efactura_access_token")
    expires = jwt_expiry(token)
    status = options.get("efactura_token_status") or ("active" if token else "")
    if not token:
        state, message = "missing", "Not connected to ANAF."
    elif status == "expired" or (expires is not None and expires <= datetime.utcnow()):
        state, message = "expired", "The ANAF token has expired or was refused: press Regenerate."
    elif status == "refused":
        state, message = "refused", "ANAF refused to refresh the token: press Regenerate."
    else:
        state, message = "active", "Connected to ANAF."
    days_left = (expires - datetime.utcnow()).days if expires else None
    return {"state": state, "message": message, "expires": expires, "days_left": days_left,
            "has_refresh": bool(options.get("efactura_refresh_token"))}


def refresh(redirect_uri: str = "") -> datetime | None:
    """Trade the refresh token for new tokens; on refusal mark the token refused and re-raise."""
    refresh_token = options.get("efactura_refresh_token")
    if not refresh_token:
        raise AnafError("token", "There is no refresh token: connect to ANAF again.")
    try:
        data = oauth_client(redirect_uri).refresh(refresh_token)
    except AnafError as err:
        if err.kind == "token":
            options.set("efactura_token_status", "refused")
            db.session.commit()
        raise
    expires = store_tokens(data)
    db.session.commit()
    return expires


def refresh_if_due(now: datetime | None = None) -> str:
    """The job: refresh the token when it expires within efactura_refresh_days_before days."""
    now = now or datetime.utcnow()
    info = token_info()
    if info["state"] == "missing" or not info["has_refresh"]:
        return "no ANAF token to refresh"
    expires = info["expires"]
    if info["state"] == "active" and expires and expires - now > timedelta(days=options.get(
            "efactura_refresh_days_before")):
        return f"token valid until {expires:%Y-%m-%d}"
    try:
        expires = refresh()
    except AnafError as err:
        return f"refresh failed: {err.message}"
    return f"token refreshed, valid until {expires:%Y-%m-%d}" if expires else "token refreshed"
