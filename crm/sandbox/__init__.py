"""Stand-ins for the outside services we cannot reach here (ANAF, Innoship, Facebook Graph,
payment gateways). Each speaks its service's documented HTTP API on loopback; the real client
code talks to it through a base-URL setting. They arrive with the issues that need them."""

import threading

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from crm.capture.facebook_sandbox import FacebookSandbox
from crm.efactura.sandbox import for_app as anaf_for_app
from crm.online_payments.sandbox import for_app
from crm.shipping.sandbox import InnoshipSandbox


class Served:
    """A WSGI app listening on 127.0.0.1 (a free port) in a daemon thread."""

    def __init__(self, wsgi_app):
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


# name -> factory(app) of a stand-in's WSGI app; mounted at /sandbox/<name> by ``mount``
# (the demo: CRM_SANDBOX=1, set by `make run`; the demo data points the options there).
def _innoship(app):
    return InnoshipSandbox(api_key=DEMO_KEYS["innoship"]).app


def _stripe(app):
    return for_app(app)


def _anaf(app):
    return anaf_for_app(app).wsgi


def _facebook(app):
    return FacebookSandbox(DEMO_KEYS["facebook_page_access_token"], DEMO_KEYS["facebook_app_secret"])


# The credentials the stand-ins accept; the demo data types the same ones into the settings.
DEMO_KEYS = {"innoship": "demo-innoship-key", "facebook_page_access_token": "demo-page-access-token",
             "facebook_app_secret": "demo-app-secret"}
SANDBOXES = {"innoship": _innoship, "stripe": _stripe, "anaf": _anaf, "facebook": _facebook}


def mount(app) -> dict:
    """Serve every stand-in inside the app itself at /sandbox/<name>, so `make run` needs nothing else."""
    made = {name: factory(app) for name, factory in SANDBOXES.items()}
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {f"/sandbox/{name}": wsgi for name, wsgi in made.items()})
    app.extensions["crm_sandboxes"] = made
    return made
