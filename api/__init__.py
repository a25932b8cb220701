"""The Litestar API (an entry point): controllers, schemas, error mapping. It gets everything
from the composition root (wibestore/container.py)."""
