"""Celery app and tasks. Workers hold no business logic: they call the application or a port."""
