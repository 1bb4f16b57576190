"""What has been announced, and what is still to send: the state behind "alert once, re-alert
after a period, announce the recovery, and never lose an alert when Slack is down".

Kept as a small JSON file (under FINOPS_HOME), read and written under a file lock, because the
sensors that feed it can run at the same time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from finops_platform.lib.locks import file_lock


class AlertBook:
    """Alert state per key (an asset check of a partition, or a run)."""

    def __init__(self, path: Path, realert_after: dt.timedelta) -> None:
        self.path = path
        self.realert_after = realert_after

    @contextmanager
    def _state(self) -> Iterator[dict]:
        with file_lock(self.path.with_suffix(".lock")):
            state = json.loads(self.path.read_text()) if self.path.exists() else {}
            state.setdefault("failing", {})
            state.setdefault("pending", [])
            yield state
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "w") as out:
                json.dump(state, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)

    def observe(
        self, key: str, failing: bool, breach: str, recovery: str, now: dt.datetime
    ) -> None:
        """Record one evaluation; queue a breach, a reminder or a recovery as due."""
        with self._state() as state:
            last = state["failing"].get(key)
            if failing and last is None:
                state["failing"][key] = now.isoformat()
                state["pending"].append(breach)
            elif failing and now - dt.datetime.fromisoformat(last) >= self.realert_after:
                state["failing"][key] = now.isoformat()
                state["pending"].append(f"Still failing: {breach}")
            elif not failing and last is not None:
                del state["failing"][key]
                state["pending"].append(recovery)

    def flush(self, send: Callable[[str], None]) -> tuple[int, int]:
        """Send pending alerts in order; stop at the first failure and keep the rest.

        Returns (sent, still pending). `send` raises when the message did not get through.
        """
        with self._state() as state:
            sent = 0
            while state["pending"]:
                try:
                    send(state["pending"][0])
                except NotifyError:
                    break
                state["pending"].pop(0)
                sent += 1
            return sent, len(state["pending"])


class NotifyError(RuntimeError):
    """An alert that could not be delivered; it stays pending."""
