"""The core: database, configuration, model base, action registry, events, audit, numbering, totals,
options, permissions, stored files, documents, mail and the job queue. Nothing here knows a
business area."""
