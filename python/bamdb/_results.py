"""Query results: plain lists of dicts, with ``to_arrow()`` and
``to_pandas()`` for those who have pyarrow or pandas installed."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

SYSTEM_COLUMNS = ["id", "status", "begin", "end", "last_modified"]


def _pyarrow():
    try:
        import pyarrow  # type: ignore[import-untyped]
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_arrow() needs pyarrow: pip install pyarrow (or bamdb[arrow])"
        ) from e
    return pyarrow


def _arrow_type(pa: Any, item: Optional[Dict[str, Any]], column: str) -> Any:
    """The Arrow type of a column: system fields and items by the
    definition (text dictionary-encoded, times timestamp[us, UTC])."""
    if column in ("begin", "end", "last_modified"):
        return pa.timestamp("us", tz="UTC")
    if column in ("id",):
        return pa.string()
    if column == "status":
        return pa.dictionary(pa.int32(), pa.string())
    if item is None:
        return None
    kind = item.get("type", "")
    return {
        "text": pa.dictionary(pa.int32(), pa.string()),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }.get(kind)


class SearchResult(list):
    """The rows of a search: a list of dicts, one per instance, in order.

    ``next`` is the cursor of the next page (pass it as ``after=``), or
    ``None`` when no row follows. ``columns`` are the columns every row
    may have, in order: the requested ones, or by default the system
    fields then every item of the definition (a row holds only the items
    set on it)."""

    def __init__(self, rows: List[Dict[str, Any]], next: Optional[str],
                 columns: List[str], definition: Dict[str, Any]):
        super().__init__(rows)
        self.next = next
        self.columns = columns
        self._items = {i["name"]: i for i in definition.get("items", [])}

    def to_arrow(self):
        """The rows as a ``pyarrow.Table`` with the definition's types."""
        pa = _pyarrow()
        arrays, fields = [], []
        for column in self.columns:
            values = [row.get(column) for row in self]
            kind = _arrow_type(pa, self._items.get(column), column)
            if isinstance(kind, pa.DictionaryType):
                array = pa.array(values, type=pa.string()).dictionary_encode()
            elif kind is not None:
                array = pa.array(values, type=kind)
            else:
                array = pa.array(values)
            arrays.append(array)
            fields.append(pa.field(column, array.type))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))

    def to_pandas(self):
        """The rows as a ``pandas.DataFrame`` (through Arrow: times as
        ``datetime64[us, UTC]``, text as categories)."""
        return self.to_arrow().to_pandas()


class AggregateResult(list):
    """The groups of an aggregation: a list of dicts (column -> cell), in
    the result's order. ``columns``: the group keys, then the measures.
    Durations are ``datetime.timedelta``; times aware datetimes."""

    def __init__(self, columns: List[str], rows):
        super().__init__(dict(zip(columns, row)) for row in rows)
        self.columns = list(columns)

    def to_arrow(self):
        """The groups as a ``pyarrow.Table`` (types inferred per column)."""
        pa = _pyarrow()
        return pa.table({c: pa.array([row[c] for row in self]) for c in self.columns})

    def to_pandas(self):
        """The groups as a ``pandas.DataFrame``."""
        return self.to_arrow().to_pandas()
