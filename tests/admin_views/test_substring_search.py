"""Substring search through the doors a person uses: a grid's search box (?search=) and search
everywhere (Ctrl+K, /admin/search). On SQLite a term of 3+ characters is found through the FTS5
trigram tables (crm/core/search_index.py), shorter ones by the LIKE scan; the results are the
LIKE's on every database (run with TEST_DATABASE_URL for PostgreSQL and MariaDB)."""
from __future__ import annotations

import re

import pytest
from crm.core.extensions import db
from tests.conftest import QueryCounter
from tests.sales.test_sales_support import base_data, make_client, make_invoice


def grid(client, resource, term, **args) -> set[int]:
    """The ids on the first page of the grid searched for ``term``."""
    resp = client.get(f"/admin/{resource}/", query_string={"search": term, **args})
    assert resp.status_code == 200, (term, resp.status_code)
    return {int(i) for i in re.findall(r'name="rowid"[^>]*value="(\d+)"', resp.get_data(as_text=True))}


def everywhere(client, term) -> set[tuple[str, int]]:
    """(type, id) of each record search everywhere shows for ``term``."""
    resp = client.get("/admin/search/", query_string={"q": term, "format": "json"})
    assert resp.status_code == 200, (term, resp.status_code)
    return {(h["type"], int(h["url"].rsplit("=", 1)[1])) for h in resp.get_json()["results"] if "url" in h}


@pytest.fixture
def records(app):
    from crm.sales.models.clients import Contact, Lead

    with app.app_context():
        ids = base_data()
        client = make_client("Fjordline Trading SRL", "orders@fjordline.example")
        invoice = make_invoice(ids, client)
        lead = Lead(name="Octavian Quist", company="Quist Mobila SRL", email="octavian@quistmobila.example",
                    phonenumber="0744 918 273")
        db.session.add(lead)
        db.session.commit()
        contact = db.session.query(Contact).filter_by(userid=client.userid).one()
        contact.phonenumber = "0265 330 771"
        db.session.commit()
        return {"invoice": invoice.id, "number": invoice.formatted_number, "client": client.userid,
                "contact": contact.id, "lead": lead.id}


def test_found_by_number_name_email_phone_and_client(admin_client, records):
    r = records
    assert grid(admin_client, "invoices", r["number"]) == {r["invoice"]}
    assert grid(admin_client, "invoices", "fjordline") == {r["invoice"]}  # by its client's name
    assert ("Invoice", r["invoice"]) in everywhere(admin_client, r["number"])
    assert grid(admin_client, "leads", "Quist") == {r["lead"]}
    assert grid(admin_client, "leads", "Quist", sort=0) == {r["lead"]}  # sorted by a column: no keys first
    assert grid(admin_client, "leads", "OCTAVIAN@QUIST") == {r["lead"]}  # case-insensitive
    assert grid(admin_client, "leads", "918 273") == {r["lead"]}  # grid words are ANDed, each in one column
    assert grid(admin_client, "leads", "918 999") == set()
    assert everywhere(admin_client, "0744 918") == {("Lead", r["lead"])}
    assert everywhere(admin_client, "quistmobila") == {("Lead", r["lead"])}
    assert grid(admin_client, "clients", "Fjordline Trading") == {r["client"]}
    assert grid(admin_client, "clients/contacts", "330 771") == {r["contact"]}
    assert grid(admin_client, "clients/contacts", "orders@fjord") == {r["contact"]}
    assert ("Contact", r["contact"]) in everywhere(admin_client, "orders@fjord")
    assert ("Contact", r["contact"]) in everywhere(admin_client, "0265 330")
    assert ("Client", r["client"]) in everywhere(admin_client, "fjordline trading")
    assert everywhere(admin_client, "fjordline zzz") == set()  # every word, in order, in one column


def test_an_updated_row_is_found_by_its_new_value_and_a_deleted_one_no_more(app, admin_client, records):
    from crm.sales.models.clients import Client, Lead

    r = records
    with app.app_context():
        db.session.get(Lead, r["lead"]).email = "tavi@newmail.example"
        db.session.get(Client, r["client"]).company = "Skagerrak Freight SA"
        db.session.commit()
    assert grid(admin_client, "leads", "tavi@newmail") == {r["lead"]}
    assert grid(admin_client, "leads", "quistmobila") == set()
    assert everywhere(admin_client, "quistmobila") == set()
    assert grid(admin_client, "invoices", "skagerrak") == {r["invoice"]}  # the client's new name
    assert grid(admin_client, "invoices", "fjordline") == set()
    assert everywhere(admin_client, "skagerrak") == {("Client", r["client"])}
    with app.app_context():
        db.session.delete(db.session.get(Lead, r["lead"]))
        db.session.commit()
    assert grid(admin_client, "leads", "Octavian") == set()
    assert everywhere(admin_client, "Octavian") == set()


def test_quotes_and_fts_operators_are_matched_literally(app, admin_client):
    from crm.sales.models.clients import Lead

    names = ['Tom "Tiger" OR Sons', "Tiger Tom", "Near(Pine) AND Oak", "Star*Power", "Star Power"]
    with app.app_context():
        leads = [Lead(name=n) for n in names]
        db.session.add_all(leads)
        db.session.commit()
        by_name = {lead.name: lead.id for lead in leads}
    assert grid(admin_client, "leads", '"Tiger"') == {by_name['Tom "Tiger" OR Sons']}
    assert everywhere(admin_client, '"tiger" or') == {("Lead", by_name['Tom "Tiger" OR Sons'])}
    assert grid(admin_client, "leads", "r*P") == {by_name["Star*Power"]}
    assert everywhere(admin_client, "star*power") == {("Lead", by_name["Star*Power"])}
    assert grid(admin_client, "leads", "NEAR(pine)") == {by_name["Near(Pine) AND Oak"]}
    assert everywhere(admin_client, ") AND O") == {("Lead", by_name["Near(Pine) AND Oak"])}
    # FTS5 syntax of every kind answers (nothing found is an answer, an error is not)
    for term in ['"', '""', '"""', 'a"b', "AND", "OR", "NOT", "NEAR", "NEAR(a b, 2)", "*", "***", "^Tig",
                 "Tig*", "{name}: x", "name:Tiger", "(((", "-Tiger", "+Tiger", "Tiger AND Tom", "100%", "%%%"]:
        grid(admin_client, "leads", term)
        everywhere(admin_client, term)


def test_grid_wildcards_and_short_terms_keep_their_meaning(app, admin_client):
    from crm.sales.models.clients import Lead

    with app.app_context():
        leads = [Lead(name="Item_4200 Box"), Lead(name="Item-4200 Crate"), Lead(name="Item 77 Ox")]
        db.session.add_all(leads)
        db.session.commit()
        underscore, dash, ox = (lead.id for lead in leads)
    # the grid's LIKE takes _ as any one character (Flask-Admin's search): both are found, as before
    assert grid(admin_client, "leads", "tem_4200") == {underscore, dash}
    assert grid(admin_client, "leads", "^Item-") == {dash}  # ^: starts with
    assert grid(admin_client, "leads", "Ox") == {underscore, ox}  # 2 characters: the scan (Box, Ox)
    assert grid(admin_client, "leads", "77") == {ox}
    assert everywhere(admin_client, "Ox") == {("Lead", underscore), ("Lead", ox)}
    assert everywhere(admin_client, "item_4200") == {("Lead", underscore), ("Lead", dash)}  # _ is a space there
    assert grid(admin_client, "leads", "4200 crate") == {dash}  # every word


def test_results_are_the_likes_whatever_the_case_of_letters(app, admin_client):
    """FTS5 folds the case of any letter, SQLite's LIKE of ASCII ones only: the index is asked for
    candidates and the LIKE decides, so each database answers what its own LIKE answers (on
    SQLite "élan" finds neither lead, as before the index; PostgreSQL and MariaDB find both)."""
    from crm.sales.models.clients import Lead

    with app.app_context():
        db.session.add_all([Lead(name="Ștefan Élan"), Lead(name="ȘTEFAN ÉLAN MARE")])
        db.session.commit()
    for term in ["Élan", "élan", "ÉLAN", "ștefan", "ȘTEFAN"]:
        with app.app_context():
            expected = {i for (i,) in db.session.query(Lead.id).filter(Lead.name.ilike(f"%{term}%"))}
        assert grid(admin_client, "leads", term) == expected, term
        assert everywhere(admin_client, term) == {("Lead", i) for i in expected}, term
    assert grid(admin_client, "leads", "Élan")  # found by the letters it is written with


def test_a_search_of_three_characters_asks_the_index_on_sqlite(app, admin_client, records):
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as long_term:
        grid(admin_client, "leads", "Quist")
        everywhere(admin_client, "Quist")
    with QueryCounter(engine) as short_term:
        grid(admin_client, "leads", "Qu")
        everywhere(admin_client, "Qu")
    asked = [s for s in long_term.statements if " MATCH " in s]
    if engine.dialect.name == "sqlite":
        assert any("tblleads_fts" in s for s in asked) and any("tblcontacts_fts" in s for s in asked)
    else:
        assert asked == []
    assert not any(" MATCH " in s for s in short_term.statements)


@pytest.mark.parametrize("walked", [False, True], ids=["page-by-keys", "page-walked"])
def test_a_term_with_more_candidates_than_asked_for_gives_the_likes_rows(app, admin_client, monkeypatch, walked):
    """On SQLite a grid's term with more than search_index.CANDIDATES candidates is common: its LIKE
    alone, whose scan stops early. Lowered here to 2: the rows and the capped count are still the
    LIKE's (the page by the keys counted, or past them walked newest first); Ctrl+K reads the
    newest from the index whatever their number, the candidates the LIKE refuses skipped."""
    from crm.admin_views import factory
    from crm.core import search_index
    from crm.sales.models.clients import Lead

    with app.app_context():
        matching = [Lead(name=f"Wexford Lead {i}", email=f"lead{i}@wexford.example") for i in range(7)]
        db.session.add_all(matching)
        db.session.commit()
        # newest: the index's candidates for "wexford lead", which the LIKE "%wexford%lead%" refuses
        others = [Lead(name="Lead of Wexford"), Lead(name="Lead Nine", email="nine@wexford.example")]
        db.session.add_all(others)
        db.session.commit()
        newest_five = sorted((lead.id for lead in matching), reverse=True)[:5]
        both_words = {lead.id for lead in matching + others}  # the grid's words, each in one column
        engine = db.engine
    app.config["GRID_COUNT_CAP"] = 4
    monkeypatch.setattr(search_index, "CANDIDATES", 2)
    if walked:  # the grid reads fewer keys than the matches: its page walks the newest rows
        monkeypatch.setattr(factory, "PROBE", 2)
    try:
        with QueryCounter(engine) as asked:
            html = admin_client.get("/admin/leads/", query_string={"search": "wexford lead"}).get_data(as_text=True)
            hits = everywhere(admin_client, "wexford lead")
        exact = admin_client.get("/admin/leads/", query_string={"search": "wexford lead", "exact_count": 1})
    finally:
        app.config.pop("GRID_COUNT_CAP")
    assert {int(i) for i in re.findall(r'name="rowid"[^>]*value="(\d+)"', html)} == both_words
    assert "List (4+)" in html
    assert "List (9)" in exact.get_data(as_text=True)
    assert hits == {("Lead", i) for i in newest_five}
    if engine.dialect.name == "sqlite":
        # the grid asked the index (for 3 keys at most) and used the LIKE alone
        assert any("tblleads_fts MATCH" in s and "LIMIT" in s for s in asked.statements)
        assert not any("tblleads.id IN (" in s and " LIKE " in s for s in asked.statements)
        assert any("ORDER BY tblleads_fts.rowid DESC" in s for s in asked.statements)  # Ctrl+K's newest
