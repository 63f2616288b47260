"""Links from a figure to the generated list behind it: ``?column=value`` equality arguments (as
the seed URLs use) plus Flask-Admin's date "between" filter, whose ``flt0_<n>`` index is looked
up on the view at run time rather than hard-coded."""
from __future__ import annotations

from datetime import date

from flask import current_app, url_for


def _view(endpoint: str):
    for admin in current_app.extensions.get("admin", []):
        for view in admin._views:
            if getattr(view, "endpoint", None) == endpoint:
                return view
    return None


def _between_arg(view, column: str) -> tuple[str, bool] | None:
    """The filter argument of "<column> between" and whether it takes date-times."""
    for arg, (_i, flt) in (view._filter_args or {}).items():
        col = getattr(flt, "column", None)
        kind = type(flt).__name__
        if getattr(col, "key", None) == column and kind.endswith("BetweenFilter") and "Not" not in kind:
            return f"flt0_{arg}", kind.startswith("DateTime")
    return None


def list_url(endpoint: str, between: tuple[str, date, date] | None = None, **equals) -> str | None:
    """The list at ``endpoint`` filtered by ``equals`` and a date range; None if no such list."""
    view = _view(endpoint)
    if view is None:
        return None
    args = {k: v for k, v in equals.items() if v is not None}
    if between is not None:
        column, start, end = between
        found = _between_arg(view, column)
        if found:
            arg, with_time = found
            args[arg] = (f"{start.isoformat()} 00:00:00 to {end.isoformat()} 23:59:59" if with_time
                         else f"{start.isoformat()} to {end.isoformat()}")
    return url_for(f"{endpoint}.index_view", **args)
