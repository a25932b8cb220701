"""CONTRACT §2.12: the staff panel, ``/api/v1/admin-panel/``, one module per resource it
works on: ``games`` (the catalogue), ``listings`` (moderation), ``money`` (disputes,
withdrawals, the transactions ledger), ``users`` (users, bans, staff, the audit log),
``reports`` (the queue of pending reports and their resolution); the contract's dashboard will
join as a module of its own.

Why a package and not one module as for the other prefixes: this prefix spans every resource
the staff touch, so a single module would be the 500-line controller STYLE.md warns about, and
would grow with each of them. Every controller here is guarded by ``staff_only``; each command
checks staff again in the application, against the event store.
"""
