"""The admin framework: the generated view factory (factory.py), access rules (access.py), the shared
screens (settings, staff, roles, audit, jobs, home), and menu.py, which assembles every area's screens
into one Flask-Admin at app creation."""
