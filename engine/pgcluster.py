"""The lab's own PostgreSQL cluster, for ``--db postgres`` with no URL.

Debian's ``postgresql`` package ships ``initdb`` and ``pg_ctl`` under
``/usr/lib/postgresql/<version>/bin``.  The cluster is made once (``initdb``), started on
127.0.0.1 at a random free port with its unix socket in a private directory, and stopped
when the lab exits.  ``initdb`` and the server refuse to run as root, so as root they run as
an unprivileged system user (``explorer-pg``, made with ``useradd --system`` if missing);
that user cannot reach root's home, so a root lab keeps its cluster in a directory of the
temporary folder named after its data directory (one cluster per data directory either way).
Password authentication on the loopback port; the socket directory is the cluster user's only.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLUSTER_USER = "explorer-pg"
SUPERUSER = "explorer"
DATABASE = "explorer"
START_TIMEOUT_S = 60


class ClusterError(RuntimeError):
    """The private cluster cannot be made or started; the message is one line."""


def bin_dir() -> Path:
    """The newest installed PostgreSQL's binaries (``initdb``, ``pg_ctl``)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise ClusterError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install postgresql, or give --db postgres://USER:PASSWORD@HOST:PORT/NAME"
        )
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cluster_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None for the current (non-root) user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(CLUSTER_USER)
    except KeyError:
        pass
    made = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            CLUSTER_USER,
        ],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0 and "already exists" not in made.stderr:
        raise ClusterError(f"cannot create the user {CLUSTER_USER} for PostgreSQL: {made.stderr.strip()}")
    return pwd.getpwnam(CLUSTER_USER)


def cluster_root(data_dir: Path, account: pwd.struct_passwd | None) -> Path:
    """Where the cluster lives: in the data directory, or (as root) where its user can reach."""
    if account is None:
        return data_dir / "postgres"
    tag = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"explorer-pg-{tag}"


class Cluster:
    """One private cluster: ``start()`` returns its URL; ``stop()`` shuts it down."""

    def __init__(self, data_dir: Path, max_connections: int = 100) -> None:
        self.account = _cluster_account()
        self.root = cluster_root(data_dir, self.account)
        self.pgdata = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "server.log"
        self.max_connections = max_connections
        self.port: int | None = None
        self._bin = bin_dir()

    # -- processes as the cluster's user -------------------------------------------------

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.account is not None:
            kwargs = {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}
        done = subprocess.run(
            [str(self._bin / argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8", "HOME": str(self.root)},
            stdin=subprocess.DEVNULL,
            **kwargs,
        )
        if check and done.returncode != 0:
            why = (done.stderr or done.stdout).strip().splitlines()
            raise ClusterError(f"{argv[0]} failed: {why[-1] if why else f'exit status {done.returncode}'}")
        return done

    def _own(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)

    def _make_dirs(self) -> None:
        for path in (self.root, self.socket_dir):
            path.mkdir(mode=0o700, exist_ok=True)
            self._own(path)
            path.chmod(0o700)

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    def _initdb(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        if self.pgdata.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.pgdata)
        pwfile = self.root / "password"
        pwfile.write_text(secrets.token_urlsafe(24))
        pwfile.chmod(0o600)
        self._own(pwfile)
        self._run(
            "initdb",
            "-D",
            str(self.pgdata),
            "-U",
            SUPERUSER,
            "--pwfile",
            str(pwfile),
            "-E",
            "UTF8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--no-instructions",
            "--no-sync",
        )

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.pgdata), "status", check=False).returncode == 0

    def start(self) -> str:
        """Make the cluster if needed, start it on a free port, create the lab's database."""
        self._make_dirs()
        self._initdb()
        if self.running:  # left behind by a lab that was killed: stop it, then start afresh
            print(f"note: stopping a PostgreSQL cluster left running in {self.pgdata}", file=sys.stderr, flush=True)
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False)
        self.port = free_port()
        self._start_on(self.port)
        self._create_database()
        return self.url

    def _last_log_line(self) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in self.log_file.read_text(errors="replace").splitlines() if line.strip()]
            if lines:
                return lines[-1]
        return f"see {self.log_file}"

    @property
    def url(self) -> str:
        assert self.port is not None, "start() the cluster first"
        return f"postgres://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def _create_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=self.port,
                    user=SUPERUSER,
                    password=self.password,
                    dbname="postgres",
                    autocommit=True,
                    connect_timeout=5,
                ) as conn:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{DATABASE}"')
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise ClusterError(f"the private PostgreSQL cluster does not answer: {exc}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """Shut the server down (fast: open connections are closed); nothing if it is not running."""
        if self.port is None:
            return
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False)
        self.port = None

    def remove(self) -> None:
        """Stop the server and delete the cluster's directory (a throwaway cluster's end)."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_keep_port(self) -> int:
        """Stop the server but remember its port, so ``start_again`` brings it back there."""
        assert self.port is not None
        port = self.port
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "stop", check=False)
        return port

    def start_again(self, port: int) -> None:
        self.port = port
        self._start_on(port)

    def _start_on(self, port: int | None) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={self.socket_dir} "
            f"-c max_connections={self.max_connections} -c superuser_reserved_connections=0 "
            "-c synchronous_commit=off"
        )
        started = self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "start",
            check=False,
        )
        if started.returncode != 0:
            raise ClusterError(f"the private PostgreSQL cluster did not start: {self._last_log_line()}")
