"""The auditor as a test assertion: used after money scenarios on both stores."""

from __future__ import annotations

from projections.audit import Audit, run_audit
from wibestore.container import Container


def settled(container: Container, timeout: float = 20) -> None:
    """Wait until every read model has every event saved so far."""
    head = container.app.recorder.max_notification_id() or 0
    assert container.board.wait_for(head, timeout)


def audited(container: Container) -> Audit:
    """Replay the log: every ledger invariant holds and the read models equal the replay."""
    settled(container)
    audit = run_audit(container.app.recorder, container.app.mapper, container.store)
    assert audit.ledger.violations == {k: [] for k in audit.ledger.violations}
    assert audit.differences == []
    assert audit.ok
    return audit
