"""The fault tests' own machinery: a PostgreSQL cluster and a Redis server of their own on free
ports, and the app's real processes (gunicorn, a Celery worker, Celery beat) pointed at them.

Nothing here touches the shared PostgreSQL on 5432 or Redis on 6379: every server is started by
the test in its temporary folder and stopped by it, by the pid it started. PostgreSQL refuses to
run as root; under root the cluster runs as the `postgres` user (runuser).
"""

import contextlib
import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from base64 import urlsafe_b64encode
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, step: float = 0.2
) -> float:
    """Poll until `predicate()` holds; returns the seconds it took."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("no PostgreSQL server binaries (initdb) found")


def _version_key(path: str) -> tuple[int, ...]:
    part = path.split("/")[4]
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
        for sub in path.rglob("*"):
            shutil.chown(sub, "postgres", "postgres")


class Postgres:
    """A cluster in `folder` (data/, socket/, log) on a free port, trust auth, user postgres."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.bin = _pg_bin()

    def init(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _give_to_postgres(self.folder)
        subprocess.run(  # noqa: S603 - PostgreSQL's own initdb
            _as_postgres(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def copy_from(self, other: "Postgres") -> None:
        """A new cluster from a stopped one's data folder (the migrated template)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(other.data, self.data, symlinks=True)
        _give_to_postgres(self.folder)

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c max_connections=40 "
            "-c fsync=off -c full_page_writes=off -c shared_buffers=32MB"
        )
        self._ctl("start", "-w", "-t", "60", "-l", str(self.folder / "postgres.log"), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """`fast`: disconnect everyone and shut down cleanly; `immediate`: a crash (recovery on
        the next start)."""
        if (self.data / "postmaster.pid").exists():
            self._ctl("stop", "-w", "-t", "60", "-m", mode)

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - PostgreSQL's own pg_ctl
            _as_postgres([str(self.bin / "pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
        )

    def url(self, db: str = "oms") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(  # noqa: S603 - PostgreSQL's own psql
            [
                str(self.bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-Atc",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()


class Redis:
    """A redis-server without persistence (a restart loses every queued message: the worst
    case) on a free port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 - kept open by the child
        self.proc = subprocess.Popen(  # noqa: S603 - redis-server from PATH
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self.ping, 20, "redis-server to answer", step=0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def app_env(pg: Postgres | None, redis: Redis, **extra: str) -> dict[str, str]:
    """The environment of every app process: production settings (debug off) on our servers
    (without `pg`, a process that needs only the broker: no DATABASE_URL)."""
    drop = {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "oms.settings",
            "REDIS_URL": redis.url,
            "DJANGO_SECRET_KEY": "chaos-" + secrets.token_urlsafe(48),
            "DJANGO_DEBUG": "0",
            "OMS_PROFILE": "development",
            "OMS_ALLOW_INSECURE_DATABASE_PASSWORD": "1",
            "OMS_FIELD_ENCRYPTION_KEY": urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "OMS_WEBHOOKS_ALLOW_HTTP": "1",
            "OMS_WEBHOOKS_ALLOW_PRIVATE": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if pg is not None:
        env["DATABASE_URL"] = pg.url()
    env.update(extra)
    return env


class Process:
    """One app process (gunicorn, a Celery worker, beat) in a process group of its own, so a
    kill reaches its children too; output goes to `<folder>/<name>.log`."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], folder: Path) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log_path = folder / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def start(self, ready: str | None = None, timeout: float = 60) -> None:
        self._offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open by the child
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and tools
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if ready:
            wait_until(lambda: ready in self.output(), timeout, f"{self.name}: {ready!r}")

    def output(self) -> str:
        """What the process wrote since its last start."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            text = f.read().decode(errors="replace")
        return text

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL to the whole group: the process and its children die at once."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()
            except ProcessLookupError:
                pass
        else:  # the leader is gone: make sure no child of its group lingers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def gunicorn(env: dict[str, str], folder: Path, port: int) -> Process:
    return Process(
        "gunicorn",
        [
            str(VENV_BIN / "gunicorn"),
            "oms.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
            "--access-logfile",
            "-",
        ],
        env,
        folder,
    )


def celery_worker(
    env: dict[str, str], folder: Path, name: str = "worker", app: str = "oms", *options: str
) -> Process:
    return Process(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "--concurrency",
            "2",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{name}-{secrets.token_hex(3)}@%h",
            *options,
        ],
        env,
        folder,
    )


def celery_beat(env: dict[str, str], folder: Path) -> Process:
    return Process(
        "beat",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "oms",
            "beat",
            "--schedule",
            str(folder / "beat-schedule"),
            "--pidfile",
            "",
            "--loglevel",
            "INFO",
        ],
        env,
        folder,
    )


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout


def world(env: dict[str, str], command: str, *args: str) -> dict:
    """Run tests/chaos/world.py in a Django process on our servers; it prints one JSON line."""
    out = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "tests.chaos.world", command, *args],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise AssertionError(f"world {command} failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])
