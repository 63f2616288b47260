"""Pages refuse to be shown in another site's frame (clickjacking), except the few meant to be
embedded, marked with :func:`framable` (the public web-to-lead form goes in customers' sites)."""
from __future__ import annotations

from flask import current_app, request


def framable(view):
    view.crm_framable = True
    return view


def init_framing(app) -> None:
    @app.after_request
    def _refuse_framing(response):
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, "crm_framable", False):
            return response
        response.headers.setdefault("X-Frame-Options", "DENY")
        csp = response.headers.get("Content-Security-Policy")
        if not csp:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        elif "frame-ancestors" not in csp:
            response.headers["Content-Security-Policy"] = f"{csp}; frame-ancestors 'none'"
        return response
