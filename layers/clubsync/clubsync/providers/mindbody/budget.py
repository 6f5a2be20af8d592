"""The per-site daily call budget (docs/providers/mindbody.md, "Call budget").

Mindbody bills calls past a daily allowance per API key. A connection may make the site's
budget less what the site's other runs already spent this UTC day (the state table's count);
its own calls are added when it closes. A run that reaches the budget stops before the call
past it (CallBudgetExhausted -> SourceError: the run fails with the reason, keeps its
watermark, and the next run after midnight UTC reads its window again). Syncs of one site that
run side by side each see the count at their start, so together they can pass the budget by
what they spend concurrently; the nightly stages keep that to one stage's types.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from clubsync.providers.base import CallLedger


class DailyCallBudget:
    def __init__(
        self, ledger: CallLedger, account_key: str, daily_budget: int, now: Callable[[], datetime]
    ) -> None:
        self.ledger = ledger
        self.account_key = account_key
        self.daily_budget = daily_budget
        # The day is fixed at connect: a run that crosses midnight counts on its first day.
        self.day = now().date().isoformat()
        self._recorded = 0

    def spent(self) -> int:
        """Calls the site's runs recorded on this UTC day so far."""
        return self.ledger.calls_on(self.account_key, self.day)

    def record(self, calls_so_far: int) -> None:
        """Adds the connection's calls not yet recorded (close may be called twice)."""
        new = calls_so_far - self._recorded
        if new > 0:
            self.ledger.add_calls(self.account_key, self.day, new)
            self._recorded = calls_so_far
