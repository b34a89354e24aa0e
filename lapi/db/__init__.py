"""Database layer: models, engine/session set-up, the change sequence."""
from lapi.db.changes import allocate_change_seq, current_change_seq
from lapi.db.models import Alert, Base, Bouncer, Decision, Event, Meta, Sequence, StreamCursor
from lapi.db.session import Database, create_db_engine, open_database

__all__ = [
    "Alert", "Base", "Bouncer", "Database", "Decision", "Event", "Meta", "Sequence",
    "StreamCursor", "allocate_change_seq", "create_db_engine", "current_change_seq",
    "open_database",
]
