"""The change sequence: a counter whose values are handed out in commit order.

Every transaction that creates or deletes decisions first runs
``UPDATE lapi_sequences SET value = value + 1 WHERE name = 'changes'`` and reads the new value
back (:func:`allocate_change_seq`). The UPDATE row-locks the counter until the transaction
commits or rolls back, so a second writer waits there and gets the next value only after the
first one's commit is visible to everyone (PostgreSQL releases row locks after the commit is
visible; InnoDB likewise; SQLite has a single writer anyway). Consequently, for any value
``S`` read from the counter by a reader, every transaction that holds a value ``<= S`` is
committed and visible to that reader's later statements, whatever the isolation level —
the property ids and timestamps lack (an id or a timestamp is taken before commit, so a
smaller one can become visible after a bigger one). A rolled-back writer leaves a gap, which
is harmless. Plain SQL, no sequences or RETURNING: portable to SQLite, PostgreSQL and MySQL.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lapi.db.models import Sequence
from lapi.db.session import CHANGED

CHANGES = "changes"


def allocate_change_seq(session: Session) -> int:
    """Take the next change sequence value; holds the counter's row lock until the
    transaction ends, so call it first in a short writing transaction."""
    table = Sequence.__table__
    session.info[CHANGED] = True
    session.execute(
        update(table).where(table.c.name == CHANGES).values(value=table.c.value + 1)
    )
    value = session.execute(select(table.c.value).where(table.c.name == CHANGES)).scalar_one()
    return int(value)


def current_change_seq(session: Session) -> int:
    """The last committed change sequence value (a plain, non-locking read)."""
    table = Sequence.__table__
    value = session.execute(select(table.c.value).where(table.c.name == CHANGES)).scalar_one()
    return int(value)
