"""`make run` (CRM_SANDBOX=1) serves every stand-in inside the app at /sandbox/<name>."""
from __future__ import annotations

from crm.app import create_app
from crm.sandbox import DEMO_KEYS, SANDBOXES


def test_every_stand_in_answers_under_the_app(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite'}", "CRM_SANDBOX": True})
    assert sorted(app.extensions["crm_sandboxes"]) == sorted(SANDBOXES)
    client = app.test_client()
    couriers = client.get("/sandbox/innoship/api/Courier/All", headers={"X-Api-Key": DEMO_KEYS["innoship"]})
    assert couriers.status_code == 200 and {"courierId": 1, "name": "Cargus"} in couriers.get_json()
    assert client.get("/sandbox/innoship/api/Courier/All").status_code == 401  # the key is checked
    assert client.get("/sandbox/stripe/v1/checkout/sessions/cs_none").status_code == 401  # no secret key sent
    wrong_token = client.get("/sandbox/facebook/v21.0/123?access_token=not-the-demo-token")
    assert wrong_token.status_code == 400 and wrong_token.get_json()["error"]["code"] == 190
    unknown = client.get(f"/sandbox/facebook/v21.0/123?access_token={DEMO_KEYS['facebook_page_access_token']}")
    assert unknown.status_code == 400 and unknown.get_json()["error"]["code"] == 100
    plain = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'plain.sqlite'}"})
    assert "crm_sandboxes" not in plain.extensions  # off unless asked for
    assert plain.test_client().get("/sandbox/innoship/api/Courier/All").status_code == 404
