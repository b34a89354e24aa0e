"""Throw-away PostgreSQL and MariaDB databases for tests.

Each server gets a test account once per session (:meth:`Server.prepare`), then every test
creates a uniquely named database through that account and drops it afterwards
(:meth:`Server.create` / :meth:`Server.drop`). Names are ``cstest_<pid>_<n>``, so databases
left behind by a killed run are recognised (their pid is gone) and dropped by the next one.

The account is made through the server's administrator where this process can be it:

* PostgreSQL: the ``postgres`` OS user over the unix socket (``runuser``, so as root as in
  CI); the role ``crowdstream_test`` (``CREATEDB``) then connects over TCP with a password;
* MariaDB: ``root`` over the unix socket (``mariadb -u root``, as root); the user
  ``crowdstream_test`` may create and drop ``cstest_*`` databases, over TCP.

Elsewhere give an account that may create databases, as an admin URL:
``CROWDSTREAM_TEST_POSTGRESQL_URL`` (``postgresql+psycopg://u:p@host/postgres``) and
``CROWDSTREAM_TEST_MARIADB_URL`` (``mysql+pymysql://u:p@host/``). A server that cannot be
reached makes :meth:`Server.prepare` raise :class:`Unavailable` (tests skip on it, unless
``CROWDSTREAM_REQUIRE_DATABASES=1``).
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from typing import Any

from sqlalchemy.engine import URL, make_url

USER = "crowdstream_test"
PASSWORD = "crowdstream-test-pw"
PREFIX = "cstest_"
REQUIRE_ENV = "CROWDSTREAM_REQUIRE_DATABASES"
_NAME = re.compile(rf"^{PREFIX}(\d+)_\d+$")


class Unavailable(Exception):
    """The server cannot be used here (the reason is the message)."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_admin(argv: list[str], what: str) -> None:
    if shutil.which(argv[0]) is None:
        raise Unavailable(f"{argv[0]} not found")
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what}: {exc}") from None
    if result.returncode != 0:
        raise Unavailable(f"{what}: {result.stderr.strip() or result.stdout.strip()}")


class Server:
    """One database server: prepared once, then throw-away databases on it."""

    backend = ""
    env = ""

    def __init__(self) -> None:
        self.admin_url: URL | None = None
        self._counter = itertools.count(1)
        self._admin: Any = None
        self._failure: str | None = None

    # -- per backend
    def _bootstrap(self) -> URL:
        raise NotImplementedError

    def _connect(self, url: URL) -> Any:
        raise NotImplementedError

    def _list(self) -> list[str]:
        raise NotImplementedError

    def _create_sql(self, name: str) -> str:
        raise NotImplementedError

    def _drop_sql(self, name: str) -> str:
        raise NotImplementedError

    # -- common
    def prepare(self) -> None:
        """Make sure the test account exists and can connect (else :class:`Unavailable`),
        and drop databases of dead earlier runs."""
        if self._admin is not None:
            return
        if self._failure is not None:  # found out once per session
            raise Unavailable(self._failure)
        try:
            given = os.environ.get(self.env)
            url = make_url(given) if given else self._bootstrap()
            try:
                self._admin = self._connect(url)
            except Exception as exc:  # noqa: BLE001 - any driver error: "not usable here"
                raise Unavailable(
                    f"cannot connect to {self.backend} as {url.username}: {exc}") from None
        except Unavailable as exc:
            self._failure = str(exc)
            raise
        self.admin_url = url
        for name in self._list():
            match = _NAME.match(name)
            if match and not _pid_alive(int(match.group(1))):
                self._execute(self._drop_sql(name))

    def _execute(self, sql: str) -> None:
        with self._admin.cursor() as cursor:
            cursor.execute(sql)

    def create(self) -> tuple[str, str]:
        """A new empty database: its name and the SQLAlchemy URL to use it."""
        assert self.admin_url is not None, "prepare() first"
        name = f"{PREFIX}{os.getpid()}_{next(self._counter)}"
        self._execute(self._create_sql(name))
        url = self.admin_url.set(database=name)
        return name, url.render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        self._execute(self._drop_sql(name))

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None


class PostgreSQL(Server):
    backend = "postgresql"
    env = "CROWDSTREAM_TEST_POSTGRESQL_URL"

    def _bootstrap(self) -> URL:
        if shutil.which("pg_isready") and subprocess.run(
                ["pg_isready", "-q"], capture_output=True, timeout=10).returncode != 0:
            raise Unavailable("PostgreSQL is not running (pg_isready)")
        if os.geteuid() == 0:
            sql = (f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{USER}') "
                   f"THEN CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'; "
                   f"ELSE ALTER ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'; END IF; END $$; "
                   # throw-away data: no fsync wait per commit (a third of the run time)
                   f"ALTER ROLE {USER} SET synchronous_commit = off")
            _run_admin(["runuser", "-u", "postgres", "--", "psql", "-qX", "-v", "ON_ERROR_STOP=1",
                        "-c", sql], "creating the PostgreSQL test role")
        return URL.create("postgresql+psycopg", username=USER, password=PASSWORD,
                          host="127.0.0.1", port=5432, database="postgres")

    def _connect(self, url: URL) -> Any:
        import psycopg

        return psycopg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                               user=url.username, password=url.password,
                               dbname=url.database or "postgres", autocommit=True,
                               connect_timeout=5)

    def _list(self) -> list[str]:
        with self._admin.cursor() as cursor:
            cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'cstest\\_%'")
            return [row[0] for row in cursor.fetchall()]

    def _create_sql(self, name: str) -> str:
        # a linguistic collation, as most installations have (en_US: 'b1' < 'B1' < 'b2'),
        # so results that depend on a collation show up in the tests
        return (f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0 '
                f"LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")

    def _drop_sql(self, name: str) -> str:
        return f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'


class MariaDB(Server):
    backend = "mariadb"
    env = "CROWDSTREAM_TEST_MARIADB_URL"

    def _bootstrap(self) -> URL:
        if os.geteuid() == 0:
            grants = "".join(
                f"CREATE USER IF NOT EXISTS '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}'; "
                f"ALTER USER '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}'; "
                f"GRANT ALL PRIVILEGES ON `cstest\\_%`.* TO '{USER}'@'{host}'; "
                for host in ("localhost", "127.0.0.1"))
            _run_admin(["mariadb", "-u", "root", "--connect-timeout=5", "-e", grants],
                       "creating the MariaDB test user")
        return URL.create("mysql+pymysql", username=USER, password=PASSWORD, host="127.0.0.1",
                          port=3306, query={"charset": "utf8mb4"})

    def _connect(self, url: URL) -> Any:
        import pymysql

        connection = pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306,
                                     user=url.username, password=url.password or "",
                                     autocommit=True, connect_timeout=5, charset="utf8mb4")
        with connection.cursor() as cursor:
            cursor.execute("SET SESSION lock_wait_timeout = 20")  # a leaked lock fails, not hangs
        return connection

    def _list(self) -> list[str]:
        with self._admin.cursor() as cursor:
            cursor.execute("SHOW DATABASES LIKE 'cstest\\_%'")
            return [row[0] for row in cursor.fetchall()]

    def _create_sql(self, name: str) -> str:
        return f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"

    def _drop_sql(self, name: str) -> str:
        return f"DROP DATABASE IF EXISTS `{name}`"


SERVERS: dict[str, type[Server]] = {"postgresql": PostgreSQL, "mariadb": MariaDB}
