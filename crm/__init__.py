"""CRMConnect: a back office for the whole commercial cycle, generated over the database schema.

One folder per business area on a small core (crm/core); crm/app.py builds the app. Kept light: no
import here may reach an area.
"""
from crm.core import moved as _moved

_moved.install()  # module names stored before the move (job outbox rows, RQ) still resolve


def __getattr__(name):  # ``crm.create_app`` / ``crm.ROOT``, for what still says so (wsgi:app users)
    if name in ("create_app", "ROOT"):
        from crm import app  # lazy: crm.app imports every area, and every area imports crm

        return getattr(app, name)
    raise AttributeError(name)
