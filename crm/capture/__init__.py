"""Lead capture channels: web forms, the email pipe and IMAP polling, spreadsheet imports.

Each channel turns outside input into leads through :func:`crm.capture.leads.capture_lead`, which
sets the channel's source (found or created by name) and the default pipeline's first status.
"""
