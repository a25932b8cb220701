"""WibeStore's domain model: aggregates, their events and the rules they enforce.

Pure by design: this package imports only the standard library, ``eventsourcing.domain``
and msgspec (``tests/test_architecture.py`` keeps it so). Time always comes in as an argument.
"""
