"""The composition root: settings, and the one place that builds the whole system (container),
which the API, the workers and the `wibestore` command all call."""
