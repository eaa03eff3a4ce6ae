"""bamdb: an embedded business-activity tracking store.

Applications record what happens to their business activities as events
(an order begins, its items are set, it ends; another application
continues it under a token). ``flush()`` makes a batch durable with one
fsync-committed write; a background bus imports it into indexed files.
Queries get one instance with all its parts merged, search and aggregate.

>>> import bamdb, tempfile
>>> store = bamdb.Store(tempfile.mkdtemp())
>>> store.deploy({"name": "PurchaseOrder", "items": [
...     {"name": "Customer", "type": "text", "max_len": 64},
...     {"name": "Amount", "type": "float"}]})
>>> with store.direct_stream() as orders:   # flushed when the block succeeds
...     _ = orders.begin("PurchaseOrder", "PO-1")
...     _ = orders.update("PurchaseOrder", "PO-1", Customer="Contoso", Amount=125.5)
>>> store.get("PurchaseOrder", "PO-1")["items"]
{'Customer': 'Contoso', 'Amount': 125.5}
>>> [row["id"] for row in store.search("PurchaseOrder", where="Amount > 100")]
['PO-1']
>>> store.close()
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from . import errors
from ._bamdb import Receipt, Stream, __version__
from ._bamdb import Reader as _Reader
from ._bamdb import Store as _Store
from ._results import SYSTEM_COLUMNS, AggregateResult, SearchResult
from .errors import *  # noqa: F403 (the exception classes: errors.__all__)

Strings = Union[str, Sequence[str], None]


class _Queries:
    """``search`` and ``aggregate`` of ``Store`` and ``Reader``, wrapping
    the extension's ``_search`` and ``_aggregate`` in result lists."""

    def search(
        self,
        activity: str,
        *,
        where: Strings = None,
        status: str = "all",
        since: Any = None,
        until: Any = None,
        archived: bool = False,
        order_by: Strings = None,
        limit: Optional[int] = None,
        offset: int = 0,
        after: Optional[str] = None,
        columns: Optional[Sequence[str]] = None,
    ) -> SearchResult:
        """The instances of ``activity`` a selection selects, as a
        :class:`SearchResult` (a list of dicts). ``where`` takes the
        ``bamdb search --where`` grammar (a string or a list, all must
        hold); ``order_by`` ``"Amount desc"`` keys; ``limit``/``offset``
        and ``after`` (the previous page's ``next``) page."""
        me: Any = self  # a Store or Reader: the extension's methods
        cols = list(columns) if columns is not None else None
        rows, next_page = me._search(
            activity, where=where, status=status, since=since, until=until,
            archived=archived, order_by=order_by, limit=limit, offset=offset,
            after=after, columns=cols,
        )
        definition = me.definition(activity)
        if cols is None:
            cols = SYSTEM_COLUMNS + [i["name"] for i in definition.get("items", [])]
        return SearchResult(rows, next_page, cols, definition)

    def aggregate(
        self,
        activity: str,
        *,
        group_by: Strings = None,
        measures: Strings = None,
        bucket: Optional[str] = None,
        tz: Optional[str] = None,
        having: Strings = None,
        order_by: Strings = None,
        limit: Optional[int] = None,
        where: Strings = None,
        status: str = "all",
        since: Any = None,
        until: Any = None,
        archived: bool = False,
    ) -> AggregateResult:
        """Groups the selected instances by fields (``group_by``) and/or a
        time ``bucket`` (``"day:end"``) and computes ``measures``
        (``"count"``, ``"sum:Amount"``, ``"p95:duration(begin,end)"``, ...;
        default ``count``), as an :class:`AggregateResult`."""
        me: Any = self
        columns, rows = me._aggregate(
            activity, group_by=group_by, measures=measures, bucket=bucket, tz=tz,
            having=having, order_by=order_by, limit=limit, where=where,
            status=status, since=since, until=until, archived=archived,
        )
        return AggregateResult(columns, rows)


class Store(_Queries, _Store):
    """A bamdb store in a directory, opened as its writer.

    ``Store(path)`` creates the store if needed (``create=False`` raises
    :class:`NotAStoreError` instead); another process holding it raises
    :class:`LockedError`. Use it in a ``with`` block, or call ``close()``.
    """


class Reader(_Queries, _Reader):
    """A read-only view of a store another process may be writing
    (``Reader(path, fresh=False)``): it answers as of the writer's last
    checkpoint (``fresh=True``: also what was committed since), takes no
    lock and writes nothing. ``refresh()`` reads a newer checkpoint."""


__all__ = [
    "Store",
    "Reader",
    "Stream",
    "Receipt",
    "SearchResult",
    "AggregateResult",
    "errors",
    "__version__",
] + errors.__all__
