"""A throwaway PostgreSQL server for the storage tests: initdb'd in a temporary folder, on 127.0.0.1, then removed.

PostgreSQL refuses to run as root, so under root (CI) the server runs as the `postgres` account.
The end-to-end tests and bench.load use it too.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SERVER_OPTIONS = "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


class ServerUnavailable(RuntimeError):
    """PostgreSQL cannot be started on this machine (binaries or account missing, start failed)."""


@dataclass
class PgServer:
    """A running server: its folder, its port, and how to stop it."""

    root: Path
    port: int
    pg_ctl: str
    run_as: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start_command(self) -> list[str]:
        """pg_ctl's command to start this server and wait until it takes connections."""
        data, log, options = (
            self.root / "data",
            self.root / "server.log",
            f"-p {self.port} -k {self.root} {SERVER_OPTIONS}",
        )
        return [*self.run_as, self.pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o", options, "start"]

    def pause(self) -> None:
        """Stop the server, its data kept, cutting every connection (a database gone away) until `resume`."""
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"],
            capture_output=True,
            check=True,
        )

    def resume(self) -> None:
        """Start the paused server again, on the same port."""
        subprocess.run(self.start_command(), capture_output=True, check=True)

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _binaries() -> tuple[str, str]:
    """initdb and pg_ctl: on PATH, else the newest Debian install under /usr/lib/postgresql."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(Path(d).parent.name), reverse=True):
        if os.access(f"{bindir}/initdb", os.X_OK) and os.access(f"{bindir}/pg_ctl", os.X_OK):
            return f"{bindir}/initdb", f"{bindir}/pg_ctl"
    raise ServerUnavailable("initdb/pg_ctl not found (install the `postgresql` package)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server() -> PgServer:
    """initdb a new cluster in a temporary folder and start it; ServerUnavailable when that cannot be done."""
    initdb, pg_ctl = _binaries()
    run_as: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root)
            raise ServerUnavailable("running as root and there is no `postgres` account to run the server") from None
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    server = PgServer(root, port, pg_ctl, run_as)
    initialise = [initdb, "-D", str(root / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]
    steps = ([*run_as, *initialise, "--no-sync"], server.start_command())
    for command in steps:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = root / "server.log"
            detail = (done.stderr or done.stdout).strip() + (f"\n{log.read_text()}" if log.exists() else "")
            server.stop()
            raise ServerUnavailable(f"{Path(command[len(run_as)]).name} failed: {detail[-2000:]}")
    return server


def start_server_for_tests() -> PgServer:
    """A server for a test; when none can start, the test fails in CI (CI=true) and is skipped elsewhere."""
    import pytest  # here: the benchmarks use `start_server` without pytest

    try:
        return start_server()
    except ServerUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI and could not be started: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: no server could be started here ({exc})")
