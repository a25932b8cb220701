"""The auditor: ``wibestore audit`` replays the whole event log through its own Ledger, checks
the ledger invariants (DESIGN.md §4) and compares the money read models with the replay.

It reads the log and the read models only: no application code, no aggregate.

- ``ledger``: the replay of money events and the invariants it checks;
- ``log``: reading the event log from position 1, fast;
- ``report``: the read models' snapshot, the comparison and the written report.
"""

from __future__ import annotations

from projections.audit.log import FastDecoder
from projections.audit.report import Audit, run_audit

__all__ = ["Audit", "FastDecoder", "run_audit"]
