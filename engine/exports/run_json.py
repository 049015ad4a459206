"""The whole run record as JSON (every field, request and span) with its stats, streamed.

The request lists are encoded a chunk at a time with the C encoder, so a 100,000-request
record never exists as one dict or one string.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ..record import ClientRequest, RunRecord, ServerRequest

_JSON_CHUNK = 1000  # records turned into dicts (with their spans) before each write


def _plain_of(cls: type, nested: dict[str, Callable[[Any], Any]] | None = None) -> Callable[[Any], dict[str, Any]]:
    """A fast ``dataclasses.asdict`` for one flat dataclass: a dict display of its fields,
    made once per class, with ``nested`` converters for fields that hold other records."""
    nested = nested or {}
    names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    assert all(name.isidentifier() for name in names)
    items = ", ".join(f"{name!r}: " + (f"_{name}(o.{name})" if name in nested else f"o.{name}") for name in names)
    return eval(f"lambda o: {{{items}}}", {f"_{name}": convert for name, convert in nested.items()})  # noqa: S307


def _json_arrays(out: TextIO, items: list[Any], plain: Callable[[Any], Any]) -> None:
    """A JSON array of ``items``, encoded a chunk at a time (C encoder, bounded memory)."""
    out.write("[")
    for i in range(0, len(items), _JSON_CHUNK):
        chunk = json.dumps([plain(x) for x in items[i : i + _JSON_CHUNK]], default=str, separators=(",", ":"))
        out.write(("," if i else "") + chunk[1:-1])
    out.write("]")


@dataclasses.dataclass(slots=True)
class _Rows:
    """A list field of the record and the converter of its items."""

    items: list[Any]
    plain: Callable[[Any], Any]


def _record_parts(record: RunRecord) -> Iterator[tuple[str, Any]]:
    """The record's fields in order: small ones as values, the request lists as ``_Rows``."""
    from ..record import LagSample, Span

    span = _plain_of(Span)
    lists = {
        "client": _plain_of(ClientRequest),
        "server": _plain_of(ServerRequest, {"spans": lambda spans: [span(x) for x in list(spans)]}),
        "lag": _plain_of(LagSample),
    }
    for f in dataclasses.fields(record):
        if f.name.startswith("_"):
            continue
        value = getattr(record, f.name)
        if f.name in lists:
            yield f.name, _Rows(list(value), lists[f.name])
        elif f.name == "thread_names":
            yield f.name, {str(k): v for k, v in list(value.items())}
        elif dataclasses.is_dataclass(value):
            yield f.name, dataclasses.asdict(value)
        elif isinstance(value, list) and value and dataclasses.is_dataclass(value[0]):
            yield f.name, [dataclasses.asdict(x) for x in list(value)]  # small lists (e.g. stalls)
        else:
            yield f.name, value


def write_json(record: RunRecord, path: str | Path) -> Path:
    """The whole record (every field, every request and span) with its stats, streamed."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        out.write("{")
        for i, (name, value) in enumerate(_record_parts(record)):
            out.write(("," if i else "") + json.dumps(name) + ":")
            if isinstance(value, _Rows):
                _json_arrays(out, value.items, value.plain)
            else:
                out.write(json.dumps(value, default=str))
        out.write(',"stats":' + json.dumps(record.final_stats().as_dict(), default=str) + "}")
    return path


def record_dict(record: RunRecord) -> dict[str, Any]:
    """The record as one dict (what ``write_json`` writes)."""
    data = {
        name: ([value.plain(x) for x in value.items] if isinstance(value, _Rows) else value)
        for name, value in _record_parts(record)
    }
    data["stats"] = record.final_stats().as_dict()
    return data
