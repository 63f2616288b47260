"""Each documented role's menu shows only what it may open, once; every page has a favicon."""
from __future__ import annotations

import re

import pytest

from tests.conftest import login, make_staff

ROLES = ("SDR", "Sales Agent", "Sales Manager", "Warehouse", "Purchasing", "Finance")


def menu_of(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<a class="(?:dropdown-item|nav-link)[^"]*" href="(/admin[^"]*)">\s*([^<]+?)\s*</a>', html)


@pytest.mark.parametrize("role", (None, *ROLES))
def test_each_role_menu_opens_and_has_no_duplicates(app, role):
    email = f"{(role or 'admin').replace(' ', '').lower()}@menu.test"
    with app.app_context():
        if role:
            make_staff(email, role)
    client = app.test_client()
    login(client, email, "pass-1234") if role else login(client)
    html = client.get("/admin/").get_data(as_text=True)
    items = menu_of(html)
    assert items, html[:500]
    names = [name for _, name in items]
    hrefs = [href for href, _ in items]
    assert len(set(names)) == len(names), sorted(n for n in names if names.count(n) > 1)
    assert len(set(hrefs)) == len(hrefs), sorted(h for h in hrefs if hrefs.count(h) > 1)
    refused = [(href, code) for href in hrefs if (code := client.get(href).status_code) not in (200, 302)]
    assert not refused, refused
    if role == "SDR":
        assert "/admin/invoices/" not in hrefs and not any("warehouse" in h for h in hrefs)
    if role == "Warehouse":
        assert "/admin/leads/" not in hrefs


def test_favicon_on_admin_login_and_portal_pages(app, admin_client):
    assert 'rel="icon"' in admin_client.get("/admin/").get_data(as_text=True)
    anonymous = app.test_client()
    assert 'rel="icon"' in anonymous.get("/login").get_data(as_text=True) or \
        'rel="icon"' in anonymous.get("/admin/", follow_redirects=True).get_data(as_text=True)
    resp = anonymous.get("/static/favicon.svg")
    assert resp.status_code == 200 and b"<svg" in resp.data
