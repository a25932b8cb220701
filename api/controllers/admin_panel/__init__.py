"""CONTRACT §2.12: the staff panel, ``/api/v1/admin-panel/``, one module per resource it
works on (``reports``: the queue of pending reports and their resolution). Every controller
here is guarded by ``staff_only``; each command checks staff again in the application, against
the event store.
"""
