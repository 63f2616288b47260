"""Reports toolkit shared by the report screens (sales, leads, sales overview) and anything that
shows business figures over a period (dashboards, goals).

- :mod:`.period`: the period a report covers, read from the query string, and SQL date buckets
  that work on SQLite, PostgreSQL and MariaDB;
- :mod:`.currency`: amounts converted to the base currency in SQL, and the currencies that
  have no rate (reported, never summed silently);
- :mod:`.table`: a report as figures and tables, the one shape the page, the JSON endpoint and
  the exports all read, so they cannot disagree;
- :mod:`.export`: that shape as CSV or Excel;
- :mod:`.view`: the admin view that serves a report's page, ``/data`` JSON and ``/export``.
"""
