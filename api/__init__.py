"""The Litestar API, the composition root and the command line."""
