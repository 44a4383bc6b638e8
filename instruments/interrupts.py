"""Stopping from outside (Ctrl-C, SIGTERM, SIGHUP) without cutting an instrument exchange in half.

A signal that arrives while a command and its reply are on the wire would
leave the reply unread, and the next query would take it for its own.  So,
once :func:`install` has put these handlers in place (the ``labctl``
command and console do), every adapter exchange is :func:`shielded`: the
signal is held and raised as :class:`Abort` (a KeyboardInterrupt) the
moment the exchange is complete.  The run engine shields each plan message
and each stored record the same way.  Waits are not shielded: a long wait
stops at once.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any
from collections.abc import Iterator


class Abort(KeyboardInterrupt):
    """Stop the run as Ctrl-C does (outputs off, data kept, run aborted); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


REASONS: dict[int, str] = {signal.SIGINT: "interrupted by the user (Ctrl-C)"}
_depth = 0
_pending: str | None = None


def _on_signal(signum: int, frame: Any) -> None:
    global _pending
    reason = REASONS.get(signum, f"stopped by {signal.Signals(signum).name}")
    if _depth:
        _pending = _pending or reason
    else:
        raise Abort(reason)


def install() -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop the process's runs (call once, from the main thread)."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)


@contextmanager
def shielded() -> Iterator[None]:
    """Hold a stop request until the block has finished, then raise it."""
    global _depth, _pending
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending is not None:
            reason, _pending = _pending, None
            raise Abort(reason)
