"""A run saved to one file and read back: every measurement, so a reopened run is the same run.

The file is JSON, compressed with gzip when saved as a run file (``.run.json.gz``): JSON
because every value of a record is a number, a string or a list of them and any tool can
read it (``zcat run.json.gz | jq``); gzip because a run repeats the same keys and names for
every request (a 10,000-request run shrinks about tenfold) and Python reads and writes it
with the standard library alone, a chunk at a time.  The ``--record`` export writes the same
document uncompressed, so both load back (``load_run`` looks at the first bytes).

The document is ``{"format": FORMAT, "version": VERSION, "app": ..., <the record's fields>,
"stats": ...}``: the record's fields are what was measured (config, versions, every client
and server timing with its spans, lag samples, stalls, thread names, notes).  Stats and
findings are computed from those, so a loaded record computes them again and gets the same
numbers; the stats saved with the file are kept beside it (``RunRecord.past.saved_stats``)
to show what the version that wrote it concluded, which a later version may word otherwise.

A file that is not one of ours, from a newer version, truncated, corrupt or of the wrong
shape raises ``RunFileError``, whose text is one line for the user.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import re
import types
import typing
import zlib
from array import array
from collections.abc import Callable, Iterator
from itertools import starmap
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from embedded_site.tracing.loop_activity import LoopActivity
from embedded_site.tracing.spans import span_rows
from embedded_site.tracing.watchdog import Stall

from .config import RunConfig, Stream
from .record import ClientRequest, LagSample, PastRun, RunRecord, ServerRequest, Span

FORMAT = "django-async-explorer/run"
VERSION = 1  # raise when a reader of this version could not read what is written
SUFFIX = ".run.json.gz"
FILE_FILTER = "Runs (*.run.json.gz *.json *.gz)"
APP = "Django Async Explorer"
_CHUNK = 1000  # records turned into dicts before each write
_INTS = 10_000  # ints of an array written at a time
_GZIP_LEVEL = 3  # a run's JSON is very repetitive: level 3 is near level 9's size at 4x the speed
_GZIP_MAGIC = b"\x1f\x8b"
_MAX_BYTES = 2 * 1024**3  # more than any run the limits allow (100,000 requests) could hold


class RunFileError(ValueError):
    """A file that cannot be read as a run; ``str()`` is one line for the user."""


# -- writing ------------------------------------------------------------------------------------


def _plain_of(cls: type, nested: dict[str, Callable[[Any], Any]] | None = None) -> Callable[[Any], dict[str, Any]]:
    """A fast ``dataclasses.asdict`` for one flat dataclass: a dict display of its fields,
    made once per class, with ``nested`` converters for fields that hold other records."""
    nested = nested or {}
    names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    assert all(name.isidentifier() for name in names)
    items = ", ".join(f"{name!r}: " + (f"_{name}(o.{name})" if name in nested else f"o.{name}") for name in names)
    return eval(f"lambda o: {{{items}}}", {f"_{name}": convert for name, convert in nested.items()})  # noqa: S307


def _row_of(cls: type) -> Callable[..., dict[str, Any]]:
    """A dict display of ``cls``'s fields from its values in field order (``spans.span_rows``:
    a packed span's fields, with no Span object made)."""
    names = [f.name for f in dataclasses.fields(cls)]
    assert all(name.isidentifier() for name in names)
    return eval(f"lambda {', '.join(names)}: {{{', '.join(f'{n!r}: {n}' for n in names)}}}")  # noqa: S307


_span_row = _row_of(Span)
_LISTS: dict[str, Callable[[Any], Any]] = {
    "client": _plain_of(ClientRequest),
    "server": _plain_of(ServerRequest, {"spans": lambda spans: list(starmap(_span_row, span_rows(spans)))}),
    "lag": _plain_of(LagSample),
}
_NOT_STORED = {"past"}  # where a loaded record came from: not a measurement


def _config_dict(config: RunConfig) -> dict[str, Any]:
    return {
        "target": config.target,
        "title": config.title,
        "streams": [{**dataclasses.asdict(s), "params": dict(s.params)} for s in config.streams],
    }


def _shallow(obj: Any) -> dict[str, Any]:
    """``dataclasses.asdict`` for a dataclass of plain values and lists of them (a stall, the loop's
    activity): the same JSON, without copying every int of a 100,000-request run's lists one by one."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _parts(record: RunRecord) -> Iterator[tuple[str, Any]]:
    """The record's fields in order: small ones as values, the request lists as lists to chunk."""
    for f in dataclasses.fields(record):
        if f.name.startswith("_") or f.name in _NOT_STORED:
            continue
        value = getattr(record, f.name)
        if f.name in _LISTS:
            yield f.name, list(value)
        elif f.name == "config":
            yield f.name, _config_dict(value)
        elif f.name == "thread_names":
            yield f.name, {str(k): v for k, v in list(value.items())}
        elif f.name == "stalls":
            yield f.name, [_shallow(x) if dataclasses.is_dataclass(x) else x for x in list(value)]
        elif f.name == "loop_activity":
            yield f.name, None if value is None else _shallow(value)  # its arrays are written by _write_value
        elif f.name in ("connections", "connection_errors"):
            yield f.name, [list(x) for x in list(value)]
        else:
            yield f.name, value


def write_document(record: RunRecord, out: TextIO) -> None:
    """The run's document, streamed to ``out``: the request lists are encoded a chunk at a
    time with the C encoder, so a 100,000-request record never exists as one dict or string."""
    out.write(f'{{"format":{json.dumps(FORMAT)},"version":{VERSION},"app":{json.dumps(_app_version())}')
    for name, value in _parts(record):
        out.write(f",{json.dumps(name)}:")
        if name in _LISTS:
            plain = _LISTS[name]
            out.write("[")
            for i in range(0, len(value), _CHUNK):
                chunk = json.dumps([plain(x) for x in value[i : i + _CHUNK]], default=str, separators=(",", ":"))
                out.write(("," if i else "") + chunk[1:-1])
            out.write("]")
        else:
            _write_value(value, out)
    out.write(',"stats":' + json.dumps(record.final_stats().as_dict(), default=str, separators=(",", ":")) + "}")


def _write_value(value: Any, out: TextIO) -> None:
    """A field's JSON; the arrays of ints in a dict (the loop's activity) as lists, a chunk at a time."""
    if isinstance(value, dict) and any(isinstance(v, array) for v in value.values()):
        out.write("{")
        for i, (key, item) in enumerate(value.items()):
            out.write(("," if i else "") + json.dumps(key) + ":")
            if isinstance(item, array):
                out.write("[")
                for j in range(0, len(item), _INTS):
                    out.write(("," if j else "") + ",".join(map(str, item[j : j + _INTS])))
                out.write("]")
            else:
                out.write(json.dumps(item, default=str, separators=(",", ":")))
        out.write("}")
    else:
        out.write(json.dumps(value, default=str, separators=(",", ":")))


def _app_version() -> str:
    return f"{APP} (run file {VERSION})"


def _write_gzip(record: RunRecord, raw: BinaryIO) -> None:
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0) as zipped:
        text = io.TextIOWrapper(zipped, encoding="utf-8", write_through=False)
        write_document(record, text)
        text.flush()
        text.detach()


def dumps_run(record: RunRecord) -> bytes:
    """The run file's bytes (gzip of the JSON document)."""
    raw = io.BytesIO()
    _write_gzip(record, raw)
    return raw.getvalue()


def save_run(record: RunRecord, path: str | Path) -> Path:
    """Write the run file to ``path`` whole or not at all (a temporary name, then a rename)."""
    from .outfile import Destination, write_atomically

    path = Path(path)
    write_atomically(Destination("run file", path), _save_to, record)
    return path


def _save_to(record: RunRecord, path: Path) -> Path:
    with path.open("wb") as raw:
        _write_gzip(record, raw)
    return path


def write_plain(record: RunRecord, path: str | Path) -> Path:
    """The same document uncompressed (the ``--record`` export), which ``load_run`` reads too."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as out:
        write_document(record, out)
    return path


# -- reading ------------------------------------------------------------------------------------


def load_run(path: str | Path) -> RunRecord:
    """Read a run file (or a ``--record`` export, or a Chrome trace this app exported)."""
    path = Path(path)
    try:
        if path.is_dir():
            raise RunFileError(f"{path} is a folder, not a run file")
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise RunFileError(f"{path} is too big to be a run file ({size / 1024**3:.1f} GB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise RunFileError(f"no such file: {path}") from None
    except OSError as exc:
        raise RunFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    return loads_run(data, source=str(path))


def loads_run(data: bytes, source: str = "", kind: str = "file") -> RunRecord:
    """A record from a run file's bytes; ``source`` names it in messages and in ``record.past``.

    The request lists are read one request at a time (``raw_decode``) and made into records
    at once, so the whole document never exists as a tree of dicts: a 100,000-request file
    needs about its text and the record it becomes, not several times that."""
    name = source or "the data"
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise RunFileError(f"{name} is truncated (the compressed data ends early)") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise RunFileError(f"{name} is a damaged gzip file ({exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RunFileError(f"{name} is not a run file (not text or gzip)") from None
    del data
    try:
        doc, built = _read_document(text, name)
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and exc.pos >= len(text.rstrip()) - 1:
            raise RunFileError(f"{name} is truncated (its JSON ends early)") from None
        raise RunFileError(f"{name} is not a run file (not valid JSON: {exc.msg} at character {exc.pos})") from None
    except _Shape as exc:
        raise RunFileError(f"{name} is not a valid run file: {exc}") from None
    del text
    if isinstance(doc, dict) and "traceEvents" in doc:
        from .trace_import import record_from_trace

        return record_from_trace(doc, source=name)
    _check_header(doc, name)
    try:
        return _record_of(doc, built, name, kind)
    except _Shape as exc:
        raise RunFileError(f"{name} is not a valid run file: {exc}") from None


def _check_header(doc: Any, name: str) -> None:
    """Ours, and of a version this one reads; else the one line that says why not."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise RunFileError(f"{name} is not a run file of {APP}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunFileError(f"{name} has no valid run file version ({version!r})")
    if version > VERSION:
        raise RunFileError(
            f"{name} was written by a newer version of {APP} "
            f"(run file version {version}; this one reads up to {VERSION})"
        )


_SPACE = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _at(text: str, pos: int) -> str:
    if pos >= len(text):
        raise json.JSONDecodeError("Unexpected end of data", text, pos)
    return text[pos]


def _read_document(text: str, name: str) -> tuple[Any, dict[str, list[Any]]]:
    """The top-level object, its request lists made into records as they are read (once the
    header says the file is ours and of a version this one reads).  Anything else is read
    as plain JSON (a trace, a file not ours)."""
    pos = _skip(text, 0)
    if text[pos : pos + 1] != "{":
        return json.loads(text), {}
    doc: dict[str, Any] = {}
    built: dict[str, list[Any]] = {}
    pos = _skip(text, pos + 1)
    if _at(text, pos) == "}":
        return doc, built
    while True:
        if _at(text, pos) != '"':
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, pos = _decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if _at(text, pos) != ":":
            raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
        pos = _skip(text, pos + 1)
        if key in _BUILDERS and _at(text, pos) == "[" and doc.get("format") == FORMAT:
            _check_header(doc, name)
            built[key], pos = _read_list(text, pos, _BUILDERS[key])
        else:
            doc[key], pos = _decoder.raw_decode(text, pos)
        pos = _skip(text, pos)
        if _at(text, pos) == ",":
            pos = _skip(text, pos + 1)
            continue
        if _at(text, pos) == "}":
            pos = _skip(text, pos + 1)
            break
        raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)
    return doc, built


def _read_list(text: str, pos: int, build: Callable[[Any, int], Any]) -> tuple[list[Any], int]:
    items: list[Any] = []
    pos = _skip(text, pos + 1)
    if _at(text, pos) == "]":
        return items, pos + 1
    while True:
        item, pos = _decoder.raw_decode(text, pos)
        items.append(build(item, len(items)))
        pos = _skip(text, pos)
        c = _at(text, pos)
        if c == ",":
            pos = _skip(text, pos + 1)
        elif c == "]":
            return items, pos + 1
        else:
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)


class _Shape(Exception):
    """Where a document differs from the shape of a run."""


def _types_of(cls: type) -> dict[str, tuple[type, ...]]:
    """Each field's allowed JSON types, from the dataclass's own annotations."""
    hints = typing.get_type_hints(cls)
    allowed: dict[str, tuple[type, ...]] = {}
    for f in dataclasses.fields(cls):
        if f.name.startswith("_"):
            continue
        hint = hints[f.name]
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        kinds: list[type] = []
        for option in options:
            origin = typing.get_origin(option) or option
            if origin is float:
                kinds += [int, float]
            elif origin in (list, tuple):
                kinds.append(list)
            elif origin is type(None):
                kinds.append(type(None))
            elif origin in (dict, typing.Mapping) or str(origin).endswith("Mapping"):
                kinds.append(dict)
            elif isinstance(origin, type):
                kinds.append(origin)
            else:
                kinds.append(object)
        allowed[f.name] = tuple(kinds)
    return allowed


def _builder(cls: type, label: str) -> Callable[[Any, int], Any]:
    """Build one ``cls`` from its dict, checking every field's type (a bool is no int)."""
    allowed = _types_of(cls)
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }  # type: ignore[misc]

    # The common case, a well-formed item, in one compiled expression over the made object:
    # exact types (so a bool is no int); anything else goes the slow way, which says what is wrong.
    checks = [f"type(o.{name}) in _{name}" for name, kinds in allowed.items() if object not in kinds]
    well_formed = eval(  # noqa: S307 (field names of our own dataclasses)
        "lambda o: " + (" and ".join(checks) or "True"),
        {f"_{name}": frozenset(kinds) for name, kinds in allowed.items()},
    )

    def build(item: Any, index: int) -> Any:
        if type(item) is dict:
            try:
                made = cls(**item)
            except TypeError:
                pass  # an unknown or missing field: said below
            else:
                if well_formed(made):
                    return made
        return check(item, index)

    def check(item: Any, index: int) -> Any:
        if not isinstance(item, dict):
            raise _Shape(f"{label} {index} is not an object")
        for key, value in item.items():
            kinds = allowed.get(key)
            if kinds is None:
                raise _Shape(f"{label} {index} has an unknown field {key!r}")
            if object not in kinds and (
                not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
            ):
                raise _Shape(f"{label} {index}'s {key!r} is {type(value).__name__}, not {kinds[0].__name__}")
        missing = required - item.keys()
        if missing:
            raise _Shape(f"{label} {index} lacks {', '.join(sorted(missing))}")
        return cls(**item)

    return build


_build_client = _builder(ClientRequest, "client request")
_build_server = _builder(ServerRequest, "server request")
_build_span = _builder(Span, "span")
_build_lag = _builder(LagSample, "lag sample")
_build_stream = _builder(Stream, "stream")
_build_stall = _builder(Stall, "stall")


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise _Shape(f"{key!r} is not a list")
    return value


def _server_of(item: Any, index: int) -> ServerRequest:
    if isinstance(item, dict) and isinstance(item.get("spans"), list):
        item = {**item, "spans": [_build_span(s, i) for i, s in enumerate(item["spans"])]}
    server = _build_server(item, index)
    if not isinstance(server.spans, list):
        raise _Shape(f"server request {index}'s spans are not a list")
    return server


_BUILDERS: dict[str, Callable[[Any, int], Any]] = {}  # filled below, once the builders exist


def _stall_of(item: Any, index: int) -> Stall:
    stall = _build_stall(item, index)
    places = []
    for place in stall.places:
        if not (
            isinstance(place, list) and len(place) == 2 and isinstance(place[0], str) and isinstance(place[1], int)
        ):
            raise _Shape(f"stall {index} has a place that is not [text, count]")
        places.append((place[0], place[1]))
    stall.places = places
    return stall


_BUILDERS.update(client=_build_client, server=_server_of, lag=_build_lag)


def _config_of(value: Any) -> RunConfig:
    if not isinstance(value, dict) or not isinstance(value.get("target"), str):
        raise _Shape("its config has no target")
    streams = value.get("streams")
    if not isinstance(streams, list) or not streams:
        raise _Shape("its config has no streams")
    for i, stream in enumerate(streams):
        params = stream.get("params") if isinstance(stream, dict) else None
        if not isinstance(params, dict) or not all(
            isinstance(v, (int, float, str, bool)) and isinstance(n, str) for n, v in params.items()
        ):
            raise _Shape(f"stream {i}'s params are not names with numbers or texts")
    title = value.get("title", "")
    if not isinstance(title, str):
        raise _Shape("its config's title is not text")
    return RunConfig(value["target"], tuple(_build_stream(s, i) for i, s in enumerate(streams)), title)


def _int_or_none(doc: dict[str, Any], key: str) -> int | None:
    value = doc.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Shape(f"{key!r} is not a whole number")
    return value


def _text_dict(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Shape(f"{key!r} is not an object")
    return value


def _loop_activity_of(value: Any) -> LoopActivity | None:
    """What the loop itself did (``embedded_site.tracing.loop_activity``), or None in a file
    from a run that did not measure it."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Shape("'loop_activity' is not an object")
    fields = {f.name: f for f in dataclasses.fields(LoopActivity)}
    unknown = set(value) - set(fields)
    if unknown:
        raise _Shape(f"'loop_activity' has unknown fields {sorted(unknown)}")
    for key, item in value.items():
        if isinstance(item, list):
            if not all(isinstance(x, int) and not isinstance(x, bool) for x in item):
                raise _Shape(f"'loop_activity.{key}' holds something that is not a whole number")
        elif item is not None and not isinstance(item, (int, str)):
            raise _Shape(f"'loop_activity.{key}' is neither a number nor text")
    try:
        return LoopActivity(**value)
    except OverflowError:
        raise _Shape("'loop_activity' holds a number beyond 64 bits") from None


def _pairs(doc: dict[str, Any], key: str, second: type) -> list[tuple[int, Any]]:
    """A list of [time ns, value] pairs (the PostgreSQL connection samples)."""
    pairs = _list(doc, key)
    for pair in pairs:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], int) and isinstance(pair[1], second)):
            raise _Shape(f"{key!r} holds something that is not a [time, value] pair")
    return pairs


def _built(doc: dict[str, Any], built: dict[str, list[Any]], key: str) -> list[Any]:
    """A request list: made while reading, or (read as plain JSON) made now."""
    if key in built:
        return built[key]
    return [_BUILDERS[key](x, i) for i, x in enumerate(_list(doc, key))]


def _record_of(doc: dict[str, Any], built: dict[str, list[Any]], name: str, kind: str) -> RunRecord:
    started = _int_or_none(doc, "started_ns")
    if started is None:
        raise _Shape("it has no start time")
    threads = _text_dict(doc.get("thread_names"), "thread_names")
    try:
        thread_names = {int(k): str(v) for k, v in threads.items()}
    except ValueError:
        raise _Shape("a thread id is not a number") from None
    for key in ("loop", "url"):
        if not isinstance(doc.get(key), str):
            raise _Shape(f"{key!r} is not text")
    notes = _list(doc, "notes")
    if not all(isinstance(n, str) for n in notes):
        raise _Shape("a note is not text")
    incomplete = doc.get("incomplete")
    if incomplete is not None and not isinstance(incomplete, str):
        raise _Shape("'incomplete' is not text")
    saved = doc.get("stats")
    record = RunRecord(
        config=_config_of(doc.get("config")),
        versions={str(k): str(v) for k, v in _text_dict(doc.get("versions"), "versions").items()},
        loop=doc["loop"],
        url=doc["url"],
        started_ns=started,
        client=_built(doc, built, "client"),
        server=_built(doc, built, "server"),
        lag=_built(doc, built, "lag"),
        stalls=[_stall_of(x, i) for i, x in enumerate(_list(doc, "stalls"))],
        thread_names=thread_names,
        loop_thread_id=_int_or_none(doc, "loop_thread_id"),
        finished_ns=_int_or_none(doc, "finished_ns"),
        stopped=bool(doc.get("stopped", False)),
        incomplete=incomplete,
        interrupted=bool(doc.get("interrupted", False)),
        notes=list(notes),
        extra=dict(_text_dict(doc.get("extra"), "extra")),
        loop_activity=_loop_activity_of(doc.get("loop_activity")),
        database=dict(_text_dict(doc.get("database"), "database")),
        connections=[(int(t), int(n)) for t, n in _pairs(doc, "connections", int)],
        connection_errors=[(int(t), str(e)) for t, e in _pairs(doc, "connection_errors", str)],
    )
    record.past = PastRun(
        kind=kind,
        source=name,
        format_version=doc["version"],
        saved_stats=saved if isinstance(saved, dict) else None,
        app_version=str(doc.get("app", "")),
    )
    return record
