"""A throwaway PostgreSQL + PostGIS cluster for tests and benchmarks.

The cluster lives in a fresh temporary folder, listens on ``127.0.0.1`` on a free TCP
port (never the system cluster's 5432 unless that happens to be free and picked by the
kernel) and on a unix socket inside that folder, accepts every local connection without
a password (``trust``: it holds nothing and is deleted on exit), and runs with
``fsync=off`` for speed.

Use from pytest through ``tests/pg_fixtures.py``; from a ``bench/`` script (which puts the
repository root on ``sys.path``)::

    from tests.pg_cluster import throwaway_cluster

    with throwaway_cluster() as cluster:
        engine_url = cluster.url                  # postgresql://postgres@127.0.0.1:PORT/atlas
        other_url = cluster.new_database("run2")  # a second, independent database

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``; the packages
``postgresql`` and ``postgis``). PostgreSQL refuses to run as root, so when this process
is root the server commands run as the ``postgres`` OS user (``runuser``, else ``su``) and
the temporary folder is handed to that user; otherwise they run as the current user.
Connecting and creating databases uses psycopg 3.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "MISSING_MESSAGE",
    "ClusterError",
    "PgCluster",
    "find_binaries",
    "throwaway_cluster",
]

MISSING_MESSAGE = (
    "PostgreSQL with PostGIS is not installed: no /usr/lib/postgresql/<version>/bin with "
    "initdb, pg_ctl and postgres plus the postgis extension was found. "
    "Install them with `apt-get install postgresql postgis` (scripts/test.sh does this)."
)
"""Why PostGIS tests cannot run, and what to install; shown when :func:`find_binaries` finds nothing."""

DEBIAN_ROOT = Path("/usr/lib/postgresql")
"""Where Debian installs one ``<version>/bin`` folder per PostgreSQL major version."""

SUPERUSER = "postgres"
"""The database superuser created by ``initdb``, whatever the OS user running the server."""

TEMPLATE_DB = "atlas_postgis_template"
"""A database with the postgis extension installed, cloned by :meth:`PgCluster.new_database`."""

_REQUIRED = ("initdb", "pg_ctl", "postgres")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_TIMEOUT_S = 60
_START_ATTEMPTS = 3  # a free port can be taken by someone else between picking and binding


class ClusterError(RuntimeError):
    """The throwaway cluster could not be set up, started or used."""


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key for a ``/usr/lib/postgresql/<version>`` folder, newest last."""
    return tuple(int(part) for part in re.findall(r"\d+", path.name)) or (-1,)


def _has_postgis(bindir: Path) -> bool:
    """Whether the server in ``bindir`` has the postgis extension installed.

    Parameters
    ----------
    bindir : Path
        A PostgreSQL ``bin`` folder.

    Returns
    -------
    bool
        True when ``<sharedir>/extension/postgis.control`` exists, the share folder being
        the one ``pg_config --sharedir`` names, else Debian's ``/usr/share/postgresql/<version>``.
    """
    candidates = []
    pg_config = bindir / "pg_config"
    if pg_config.is_file():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [str(pg_config), "--sharedir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            if out:
                candidates.append(Path(out))
    candidates.append(Path("/usr/share/postgresql") / bindir.parent.name)
    return any((share / "extension" / "postgis.control").is_file() for share in candidates)


def find_binaries(require_postgis: bool = True) -> Path | None:
    """Find the newest PostgreSQL server ``bin`` folder that can run a PostGIS cluster.

    Looks at Debian's ``/usr/lib/postgresql/<version>/bin`` folders, newest version first,
    then at the folder of an ``initdb`` on ``PATH``.

    Parameters
    ----------
    require_postgis : bool, default True
        Accept a folder only when the postgis extension is installed for that server.

    Returns
    -------
    Path or None
        The folder holding ``initdb``, ``pg_ctl`` and ``postgres``; None when there is none
        (then :data:`MISSING_MESSAGE` says what to install).
    """
    candidates = [d / "bin" for d in sorted(DEBIAN_ROOT.glob("*"), key=_version_key, reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        has_server = all(os.access(bindir / name, os.X_OK) for name in _REQUIRED)
        if has_server and (not require_postgis or _has_postgis(bindir)):
            return bindir
    return None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        The address to probe.

    Returns
    -------
    int
        A port chosen by the kernel; it may be taken by another process before it is used.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _server_env() -> dict[str, str]:
    """This process's environment without ``PG*`` variables that would redirect the tools."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.setdefault("LC_ALL", "C")
    return env


@dataclass
class PgCluster:
    """A running throwaway cluster, as yielded by :func:`throwaway_cluster`.

    Attributes
    ----------
    bindir : Path
        The server's ``bin`` folder.
    root : Path
        The temporary folder holding ``data/``, ``sock/`` and ``server.log``.
    port : int
        The TCP port on 127.0.0.1.
    dbname : str
        The database that :attr:`url` points to.
    host : str
        The TCP listen address, always ``127.0.0.1``.
    """

    bindir: Path
    root: Path
    port: int
    dbname: str
    host: str = "127.0.0.1"
    _as_postgres: bool = field(default=False, repr=False)

    @property
    def datadir(self) -> Path:
        """The cluster's data directory (``PGDATA``)."""
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        """The folder holding the server's unix socket."""
        return self.root / "sock"

    @property
    def logfile(self) -> Path:
        """The server log written by ``pg_ctl -l``."""
        return self.root / "server.log"

    @property
    def url(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/DBNAME`` for the main database (with postgis)."""
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        """Return the connection URL of database ``dbname`` of this cluster.

        Parameters
        ----------
        dbname : str
            A database name (not checked to exist).

        Returns
        -------
        str
            ``postgresql://postgres@127.0.0.1:PORT/<dbname>``.
        """
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def new_database(self, name: str) -> str:
        """Create a fresh database with the postgis extension and return its URL.

        The database is cloned from a template that already has postgis installed, so it
        costs a file copy rather than ``CREATE EXTENSION postgis`` each time.

        Parameters
        ----------
        name : str
            The new database's name: lower-case letters, digits and underscores, not starting
            with a digit, at most 63 characters; it must not exist yet.

        Returns
        -------
        str
            The new database's URL.

        Raises
        ------
        ValueError
            When ``name`` is not such a name.
        psycopg.errors.DuplicateDatabase
            When the database already exists.
        """
        _check_db_name(name)
        self._execute("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, closing any connections still open to it.

        Parameters
        ----------
        name : str
            A database name as accepted by :meth:`new_database`.
        """
        _check_db_name(name)
        self._execute("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, dbname: str, *statements: str) -> None:
        """Run ``statements`` in autocommit mode on database ``dbname`` as the superuser."""
        import psycopg  # imported here so that find_binaries() works without psycopg

        with psycopg.connect(self.url_for(dbname), autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(statement)

    # -- server control -------------------------------------------------------------------

    def _run(
        self, args: Sequence[str], *, timeout: float = _START_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        """Run a server program from :attr:`bindir` as the OS user that owns the cluster."""
        return _run_as(args, self._as_postgres, cwd=self.root, timeout=timeout)

    def _initdb(self) -> None:
        """Create the data directory and write its settings and ``pg_hba.conf``."""
        result = self._run(
            [
                str(self.bindir / "initdb"),
                "-D", str(self.datadir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        if result.returncode != 0:
            raise ClusterError(f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "32MB",
            "max_connections": "50",
            "max_wal_senders": "0",
            "wal_level": "minimal",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# throwaway test cluster (tests/pg_cluster.py)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # Trust, but only for the unix socket and the loopback address the server listens on.
        (self.datadir / "pg_hba.conf").write_text(
            "# throwaway test cluster: local connections only, no password\n"
            "local all all trust\n"
            "host  all all 127.0.0.1/32 trust\n",
            encoding="utf-8",
        )

    def _start(self) -> None:
        """Start the server on :attr:`port` and wait until it accepts connections."""
        result = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D", str(self.datadir),
                "-l", str(self.logfile),
                "-o", f"-p {self.port}",
                "-t", str(_START_TIMEOUT_S),
                "-w", "start",
            ],
            timeout=_START_TIMEOUT_S + 30,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"pg_ctl start failed ({result.returncode}) on port {self.port}:\n"
                f"{result.stdout}{result.stderr}\n--- server.log ---\n{self._log_tail()}"
            )

    def _stop(self) -> None:
        """Stop the server at once (``pg_ctl -m immediate stop``); kill it if that fails."""
        if not (self.datadir / "postmaster.pid").exists():
            return
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"],
                timeout=30,
            )
        pidfile = self.datadir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pidfile.read_text().splitlines()[0])
            # Only reached when pg_ctl left the postmaster running: kill it, if that pid is
            # still a postgres process (not a later process that reused the number).
            if b"postgres" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)

    def _log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server log, or a note that there is none."""
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _check_db_name(name: str) -> None:
    """Raise ValueError unless ``name`` is a plain lower-case identifier of at most 63 characters."""
    if not _DB_NAME.fullmatch(name):
        raise ValueError(f"database name must match {_DB_NAME.pattern!r}: {name!r}")


def _run_as(
    args: Sequence[str], as_postgres: bool, *, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``args``, as the ``postgres`` OS user when ``as_postgres``, capturing its output.

    Parameters
    ----------
    args : sequence of str
        The program and its arguments.
    as_postgres : bool
        Run through ``runuser -u postgres --`` (or ``su postgres -c`` without runuser);
        only possible, and only needed, when this process is root.
    cwd : Path
        Working folder; one the ``postgres`` user can enter.
    timeout : float
        Seconds before the command is killed.

    Returns
    -------
    subprocess.CompletedProcess
        With ``stdout`` and ``stderr`` as text; the caller checks ``returncode``.
    """
    command = list(args)
    if as_postgres:
        runuser = shutil.which("runuser")
        if runuser:
            command = [runuser, "-u", "postgres", "--", *command]
        else:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
    return subprocess.run(
        command,
        cwd=cwd,
        env=_server_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def throwaway_cluster(
    dbname: str = "atlas", *, bindir: Path | None = None, base_dir: Path | None = None
) -> Iterator[PgCluster]:
    """Start a throwaway PostgreSQL cluster with PostGIS; stop and delete it on exit.

    Creates a temporary folder, runs ``initdb`` in it, starts the server on a free port of
    127.0.0.1 with ``pg_ctl -w start``, creates a template database with
    ``CREATE EXTENSION postgis`` and clones it into ``dbname``. On exit (also after an
    error) the server is stopped with ``pg_ctl -m immediate stop`` and the folder removed.

    Parameters
    ----------
    dbname : str, default "atlas"
        The database :attr:`PgCluster.url` points to.
    bindir : Path, optional
        The server ``bin`` folder; default :func:`find_binaries`.
    base_dir : Path, optional
        Where to create the temporary folder; default the system's temporary folder. Keep
        it short: the unix socket path must fit in about 100 characters.

    Yields
    ------
    PgCluster
        The running cluster: ``.url``, ``.new_database(name)``, ``.port`` and so on.

    Raises
    ------
    ClusterError
        When no server binaries are found (the message is :data:`MISSING_MESSAGE`), when
        running as root without a ``postgres`` OS user, or when the server does not start.
    """
    _check_db_name(dbname)
    if dbname in ("postgres", TEMPLATE_DB, "template0", "template1"):
        raise ValueError(f"{dbname!r} is reserved in the throwaway cluster")
    bindir = bindir or find_binaries()
    if bindir is None:
        raise ClusterError(MISSING_MESSAGE)
    missing = [name for name in _REQUIRED if not os.access(bindir / name, os.X_OK)]
    if missing:
        raise ClusterError(f"{bindir} has no {', '.join(missing)}. {MISSING_MESSAGE}")
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="atlas-pg-", dir=base_dir))
    cluster = PgCluster(bindir=bindir, root=root, port=0, dbname=dbname, _as_postgres=as_postgres)
    try:
        cluster.socket_dir.mkdir()
        if as_postgres:
            try:
                shutil.chown(root, "postgres", "postgres")
                shutil.chown(cluster.socket_dir, "postgres", "postgres")
            except LookupError as exc:
                raise ClusterError(
                    "running as root, but there is no 'postgres' OS user to run the server as "
                    "(the Debian postgresql package creates it)"
                ) from exc
        cluster._initdb()
        for attempt in range(_START_ATTEMPTS):
            cluster.port = free_port(cluster.host)
            try:
                cluster._start()
                break
            except ClusterError:
                if attempt == _START_ATTEMPTS - 1 or "could not bind" not in cluster._log_tail():
                    raise
                time.sleep(0.2)
        cluster._execute("postgres", f'CREATE DATABASE "{TEMPLATE_DB}"')
        cluster._execute(TEMPLATE_DB, "CREATE EXTENSION postgis")
        cluster._execute("postgres", f'ALTER DATABASE "{TEMPLATE_DB}" WITH IS_TEMPLATE true')
        cluster.new_database(dbname)
        yield cluster
    finally:
        try:
            cluster._stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)
