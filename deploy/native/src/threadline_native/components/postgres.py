"""PostgreSQL from Debian's package, initialised into the project's state directory."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
from pathlib import Path

from threadline_native.component import Component, StackError
from threadline_native.process import Launch

USER = "threadline"
PASSWORD = "threadline"  # noqa: S105 - a local development credential, the same in compose
# The Debian package's system account; PostgreSQL refuses to run as root.
SYSTEM_USER = "postgres"


class Postgres(Component):
    name = "postgres"
    port = 5432
    startup_timeout = 60.0
    # SIGINT is PostgreSQL's "fast" shutdown: roll back sessions, checkpoint, exit.
    stop_signal = signal.SIGINT

    @property
    def major(self) -> str:
        return self.context.version("POSTGRES_VERSION")

    @property
    def title(self) -> str:
        return f"PostgreSQL {self.major}"

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    @property
    def bin_dir(self) -> Path:
        return Path(f"/usr/lib/postgresql/{self.major}/bin")

    @property
    def data_dir(self) -> Path:
        return self.layout.data_dir(self.name) / "data"

    @property
    def socket_dir(self) -> Path:
        return self.layout.data_dir(self.name) / "run"

    @property
    def config_dir(self) -> Path:
        return self.layout.compose_dir / "postgres"

    def _run_as(self) -> str | None:
        return SYSTEM_USER if os.geteuid() == 0 else None

    def healthy(self) -> bool:
        server_major = self.query("SELECT current_setting('server_version_num')::int / 10000")
        if server_major is None:
            return False
        if server_major != self.major:
            raise StackError(
                f"a PostgreSQL {server_major} server already answers on port {self.port}; "
                f"Threadline pins PostgreSQL {self.major}. Stop it, or change POSTGRES_VERSION."
            )
        return True

    def query(self, sql: str, database: str = "postgres") -> str | None:
        """Run one SQL statement as the project user over TCP; None when that is not possible."""
        result = self._psql("-d", database, "-tAqc", sql, timeout=15)
        return result.stdout.strip() if result.returncode == 0 else None

    def _psql(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """psql as the project user over TCP, stopping at the first error."""
        psql = shutil.which("psql") or str(self.bin_dir / "psql")
        return subprocess.run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                USER,
                "-v",
                "ON_ERROR_STOP=1",
                *args,
            ],
            env={**os.environ, "PGPASSWORD": PASSWORD, "PGCONNECT_TIMEOUT": "2"},
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def prepare(self) -> None:
        if not (self.bin_dir / "postgres").exists():
            raise StackError(f"{self.title} is not installed (no {self.bin_dir}); run `make setup`")
        if (self.data_dir / "PG_VERSION").exists():
            return
        run_as = self._run_as()
        for directory in (self.data_dir, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
            if run_as:
                account = pwd.getpwnam(run_as)
                os.chown(directory, account.pw_uid, account.pw_gid)
        if run_as:
            _require_traversable(self.data_dir, run_as)
        password_file = self.layout.data_dir(self.name) / "initdb.pw"
        password_file.write_text(PASSWORD + "\n")
        password_file.chmod(0o644)
        try:
            argv = [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                USER,
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
            if run_as:
                argv = ["runuser", "-u", run_as, "--", *argv]
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def launch(self) -> Launch:
        data = self.data_dir
        return Launch(
            argv=[
                str(self.bin_dir / "postgres"),
                "-D",
                str(data),
                # The same configuration file the compose container uses; only what differs
                # between a container and a local process is overridden here.
                "-c",
                f"config_file={self.config_dir / 'postgresql.conf'}",
                "-c",
                f"hba_file={data / 'pg_hba.conf'}",
                "-c",
                f"ident_file={data / 'pg_ident.conf'}",
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                f"port={self.port}",
                "-c",
                f"unix_socket_directories={self.socket_dir}",
            ],
            user=self._run_as(),
        )

    def after_start(self) -> None:
        """Create the services' databases with the same idempotent script compose runs at init."""
        script = self.config_dir / "init" / "01-databases.sql"
        result = self._psql("-d", "postgres", "-q", "-f", str(script), timeout=60)
        if result.returncode != 0:
            raise StackError(f"creating the databases failed:\n{result.stderr}")


def _require_traversable(directory: Path, user: str) -> None:
    """PostgreSQL runs as `user`, which must be able to reach its data directory."""
    for parent in directory.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH and parent.stat().st_uid != pwd.getpwnam(user).pw_uid:
            raise StackError(
                f"PostgreSQL runs as the '{user}' account, which cannot enter {parent} "
                f"(mode {stat.filemode(mode)}). Clone Threadline somewhere every account can "
                f"reach, or `chmod o+x {parent}`."
            )
