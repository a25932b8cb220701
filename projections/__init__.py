"""Read models: SQL tables kept up to date from the event log by projectors, their queries, and
how fresh they are (read-your-writes, lag)."""
