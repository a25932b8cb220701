"""Read models: SQL tables kept up to date from the event log by projectors."""
