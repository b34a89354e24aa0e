"""Child processes that die with their parent (Linux ``PR_SET_PDEATHSIG``), so even a
``kill -9`` of the supervisor leaves no orphan broker or worker behind."""
from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for subprocesses: SIGTERM the child when its parent exits."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
