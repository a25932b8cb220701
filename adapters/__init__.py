"""The implementations of the application's ports (application/ports.py) at the edge: argon2,
JWT, AES-GCM, SMTP, Google, Pillow, the filesystem, Redis, Celery, the payment provider and the
event-store recorder wrappers. Only the composition root (wibestore/container.py) picks them;
nothing inward imports them."""
