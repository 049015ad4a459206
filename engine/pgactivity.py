"""How many connections the site holds open on PostgreSQL, sampled during a run.

A thread with its own psycopg connection asks ``pg_stat_activity`` every ~50 ms how many
client backends are connected to the lab's database (its own connection left out), and
appends ``(perf_counter_ns, count)`` to the record.  It is a server-side count: whatever
Django, a pool or a leak holds, PostgreSQL sees it.  When the server is unreachable (it was
stopped mid-run) the sampler records the gap with its cause and keeps trying to reconnect.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from embedded_site.dbconfig import PostgresTarget

PERIOD_S = 0.05
SAMPLER_NAME = "explorer-connection-sampler"  # its application_name, so it can be told apart
COUNT_SQL = (
    "SELECT pid FROM pg_stat_activity "
    "WHERE datname = %s AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def database_facts(target: PostgresTarget) -> dict[str, Any]:
    """The server's version and max_connections, read once (for the record and the findings)."""
    import psycopg

    with psycopg.connect(**target.conninfo(), connect_timeout=5, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
    return {"server_version": version, "max_connections": max_connections}


class ConnectionSampler:
    """Samples the connection count into ``samples`` until ``stop()``; ``errors`` holds
    ``(perf_counter_ns, message)`` for each sample that could not be taken."""

    def __init__(self, target: PostgresTarget, samples: list, errors: list) -> None:
        self.target = target
        self.samples = samples
        self.errors = errors
        self.backends_seen: set[int] = set()  # every backend pid any sample saw
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="explorer-pg-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def sample_now(self, conn: Any) -> int:
        """The number of client backends now; their pids are added to ``backends_seen``."""
        pids = [row[0] for row in conn.execute(COUNT_SQL, (self.target.name,)).fetchall()]
        self.backends_seen.update(pids)
        return len(pids)

    def _loop(self) -> None:
        import psycopg

        conn = None
        while not self._stop.is_set():
            began = time.perf_counter_ns()
            try:
                if conn is None:
                    conn = psycopg.connect(
                        **self.target.conninfo(), connect_timeout=2, autocommit=True, application_name=SAMPLER_NAME
                    )
                count = self.sample_now(conn)
                self.samples.append((time.perf_counter_ns(), count))
            except psycopg.Error as exc:
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
                self.errors.append((began, message))
                if conn is not None:
                    conn.close()
                conn = None
            spent = (time.perf_counter_ns() - began) / 1e9
            self._stop.wait(max(0.0, PERIOD_S - spent))
        if conn is not None:
            conn.close()


def _settings_target() -> PostgresTarget | None:
    """The PostgreSQL database the running site uses: the one the lab chose (``--db``), else
    the one its settings name (a person's own project names its own)."""
    from django.conf import settings

    from embedded_site.dbconfig import current_target

    target = current_target()
    if target is not None:
        return target
    default = settings.DATABASES["default"]
    if "postgresql" not in default.get("ENGINE", ""):
        return None
    port = default.get("PORT")
    return PostgresTarget(
        name=str(default.get("NAME") or ""),
        user=str(default.get("USER") or ""),
        password=str(default.get("PASSWORD") or ""),
        host=str(default.get("HOST") or ""),
        port=int(port) if port else None,
    )


def describe_database() -> dict[str, Any]:
    """What the site's settings say about its database (and, for PostgreSQL, what the server says)."""
    from django.conf import settings

    from embedded_site.dbconfig import is_postgres

    default = settings.DATABASES["default"]
    if not is_postgres(settings.DATABASES):
        return {"vendor": "sqlite", "name": str(default["NAME"])}
    target = _settings_target()
    assert target is not None
    found: dict[str, Any] = {
        "vendor": "postgresql",
        "server": f"{target.host}:{target.port or 5432}",
        "name": target.name,
        "pool": bool(default.get("OPTIONS", {}).get("pool")),
        "pool_max_size": (default.get("OPTIONS", {}).get("pool") or {}).get("max_size"),
        "conn_max_age": default.get("CONN_MAX_AGE", 0),
    }
    try:
        found |= database_facts(target)
    except Exception as exc:  # noqa: BLE001 - the run still goes on; the record says why
        found["unreachable"] = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return found


class _Opened:
    """Counts the connections Django opens while a run records (its ``connection_created``
    signal, sent by the site in this process), exactly: a 50 ms sampler misses one that
    lives for a single short request."""

    def __init__(self) -> None:
        self.times: list[int] = []
        self.backends: set[int] = set()
        self.recording = False

    def __call__(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        # With a pool Django sends the signal for every connection it takes from the pool;
        # the server process behind it (its backend pid) says whether it is a new one.
        if self.recording:
            self.times.append(time.perf_counter_ns())
            self.backends.add(connection.connection.info.backend_pid)


_opened = _Opened()


def attach(record: Any) -> ConnectionSampler | None:
    """Fill ``record.database``; for PostgreSQL start sampling into ``record.connections``
    and counting the connections opened; ``detach`` ends both."""
    from django.db.backends.signals import connection_created

    record.database = describe_database()
    if record.database["vendor"] != "postgresql":
        return None
    target = _settings_target()
    assert target is not None
    connection_created.connect(_opened, dispatch_uid="explorer-connections-opened")
    _opened.times, _opened.backends = [], set()
    _opened.recording = True
    sampler = ConnectionSampler(target, record.connections, record.connection_errors)
    sampler.start()
    return sampler


def detach(record: Any, sampler: ConnectionSampler | None, in_process: bool = True) -> None:
    """End the sampling.  ``in_process``: the site ran in this process, so Django's signal
    counted every connection it opened; a child server's are only the backends the samples saw."""
    if sampler is None:
        return
    _opened.recording = False
    sampler.stop()
    record.database["backends_seen"] = len(sampler.backends_seen)
    if in_process:
        record.database["opened"] = len(_opened.backends)
        record.database["connects"] = len(_opened.times)
