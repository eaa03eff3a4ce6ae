"""The exceptions bamdb raises. Every one derives from :class:`Error`;
each also derives from the built-in class a caller would catch anyway
(``ValueError`` for bad input and queries, ``OSError`` for I/O,
``TimeoutError``)."""


class Error(Exception):
    """Any bamdb error."""


class LockedError(Error):
    """Another process (or handle) has the store or message box open."""


class NotAStoreError(Error):
    """The directory holds no store, and ``create=False``."""


class CorruptError(Error):
    """A file of the store is damaged; the message names it and where."""


class InvalidInputError(Error, ValueError):
    """An event, definition or argument breaks a rule; nothing was written."""


class RejectedError(Error, ValueError):
    """A direct stream's batch fails validation against the deployed
    definitions; nothing was written. ``reasons`` has one entry per bad event."""

    reasons: "list[str]"

    def __init__(self, *args):
        super().__init__(*args)
        self.reasons = []


class QueryError(Error, ValueError):
    """A search or aggregation is malformed or does not fit the activity
    (unknown field, bad expression, activity not deployed)."""


class StoreIOError(Error, OSError):
    """The operating system refused a file operation, or import is failing
    (degraded) or halted; what was committed is not lost."""


class BoxFullError(Error):
    """A producer's message box is at its quota and the bus did not make room."""


class ClosedError(Error):
    """The store was closed."""


class StoreTimeoutError(Error, TimeoutError):
    """Waiting for the bus took too long."""


__all__ = [
    "Error",
    "LockedError",
    "NotAStoreError",
    "CorruptError",
    "InvalidInputError",
    "RejectedError",
    "QueryError",
    "StoreIOError",
    "BoxFullError",
    "ClosedError",
    "StoreTimeoutError",
]
