"""The production stack as local processes: ``python -m ops.stack up``.

It starts what ``docker-compose.yml`` describes, without Docker: PostgreSQL (a throwaway
cluster of its own), Redis (its own server), moto's S3 server behind a small TCP gate (so the
store can be taken down and brought back without losing its objects), an SMTP catcher
(aiosmtpd, each message kept as a file), a local stand-in for Stripe's API (those three in
``ops/standins.py``), then migrates, collects the static files and starts gunicorn (two
workers, production settings), two Celery workers and beat. It waits until each part is
healthy and stops everything it started, by process id, on exit or Ctrl-C.

The same ``Stack`` class is what the stack tests (``tests/stack``), the load run
(``bench/stack_load.py``) and the restore drill use; it can stop and start single parts to
break them on purpose.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ops.processes import Proc, StackError, children_of, port_open, wait_until

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUCKET = "portal-records"
S3_KEY, S3_SECRET = "portal", "portal-stack-secret"
STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET = "sk_test_stack", "whsec_stack_portal"


@dataclass
class Stack:
    """Ports: ``web`` for gunicorn; the four after it for the S3 gate, moto, SMTP and the
    Stripe stand-in; Redis and PostgreSQL on their own. ``database_url`` set: use that
    server instead of a cluster of its own (restarts are then simulated, see
    ``postgres_restart``)."""

    folder: Path
    web: int = 8700
    redis_port: int = 6390
    pg_port: int = 5440
    database_url: str = ""
    web_workers: int = 2
    workers: int = 2
    procs: dict[str, Proc] = field(default_factory=dict)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))

    # --- addresses ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web}"

    @property
    def s3_port(self) -> int:
        return self.web + 1

    @property
    def moto_port(self) -> int:
        return self.web + 2

    @property
    def smtp_port(self) -> int:
        return self.web + 3

    @property
    def stripe_port(self) -> int:
        return self.web + 4

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def stripe_url(self) -> str:
        return f"http://127.0.0.1:{self.stripe_port}"

    @property
    def db_url(self) -> str:
        return self.database_url or f"postgres://postgres@127.0.0.1:{self.pg_port}/portal_stack"

    @property
    def own_postgres(self) -> bool:
        return not self.database_url

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def mail_folder(self) -> Path:
        return self.folder / "mail"

    @property
    def pgdata(self) -> Path:
        return self.folder / "pg" / "data"

    def env(self) -> dict[str, str]:
        """The environment of web, worker and beat: production settings, as in compose."""
        keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TZ"}}
        return {
            **keep,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_ENV_FILE": "/nonexistent",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SITE_URL": self.url,
            # Nothing stands in front of gunicorn here: X-Forwarded-For is not trusted.
            "TRUSTED_PROXY_COUNT": "0",
            # Plain HTTP on loopback: no TLS proxy to redirect to (cookies stay Secure).
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "SECURE_HSTS_PRELOAD": "false",
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "STORAGE_BACKEND": "s3",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": self.s3_url,
            "S3_ACCESS_KEY_ID": S3_KEY,
            "S3_SECRET_ACCESS_KEY": S3_SECRET,
            "S3_ADDRESSING_STYLE": "path",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            # One request per batch (one transaction each), so that a worker killed in the
            # deadline sweep stops it midway; production sends 500 at a time.
            "REVIEWS_ALERT_BATCH": "1",
            "STRIPE_API_BASE": self.stripe_url,
            "CELERY_DATA_DIR": str(self.folder / "celery"),
            "PORTAL_VAR_DIR": str(self.folder / "var"),
            "STATIC_ROOT": str(self.folder / "static"),
            "LOG_LEVEL": "INFO",
        }

    # --- processes ------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> Proc:
        log = self.folder / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(  # noqa: S603 - the stack's own commands
                argv,
                cwd=ROOT,
                env=env if env is not None else self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stopped as one
            )
        proc = Proc(name, popen, log)
        self.procs[name] = proc
        return proc

    def _manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise StackError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def django(self, code: str, timeout: float = 300) -> str:
        """Run Python in a Django process with the stack's settings; returns what it printed."""
        return self._manage("shell", "--no-imports", "-c", code, timeout=timeout)

    # --- parts ----------------------------------------------------------------------------

    def postgres_start(self) -> None:
        if not self.own_postgres:
            return
        if not self.pgdata.exists():
            self._as_postgres(["initdb", "-D", str(self.pgdata), "-A", "trust", "-U", "postgres"])
        self._as_postgres(
            [
                "pg_ctl",
                "-D",
                str(self.pgdata),
                "-l",
                str(self.folder / "pg" / "postgres.log"),
                "-o",
                f"-p {self.pg_port} -k {self.folder / 'pg'} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c max_connections=200",
                "-w",
                "start",
            ]
        )

    def postgres_stop(self) -> None:
        if self.own_postgres and (self.pgdata / "postmaster.pid").exists():
            self._as_postgres(["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])

    def postgres_restart(self) -> None:
        """Restart PostgreSQL under traffic. With a cluster of its own: a real restart (every
        connection dropped, refused while it is down). With a shared server: every
        connection to the stack's database is terminated instead."""
        if self.own_postgres:
            self._as_postgres(
                [
                    "pg_ctl",
                    "-D",
                    str(self.pgdata),
                    # Without a log file the server would keep this call's output pipe open.
                    "-l",
                    str(self.folder / "pg" / "postgres.log"),
                    "-m",
                    "immediate",
                    "-w",
                    "restart",
                ]
            )
        else:
            name = self.db_url.rsplit("/", 1)[1]
            self.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    def _as_postgres(self, argv: list[str]) -> None:
        tool = shutil.which(argv[0]) or argv[0]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            argv = ["runuser", "-u", "postgres", "--", tool, *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode:
            raise StackError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")

    def sql(self, query: str, params=None) -> list[tuple]:
        """A query against the stack's database (what the tests assert on)."""
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def _database_create(self) -> None:
        if not self.own_postgres:
            return
        import psycopg

        admin = f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname='portal_stack'"
            ).fetchone():
                conn.execute("CREATE DATABASE portal_stack")

    def redis_start(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.redis_port),
                "--save",
                "",
                # As in compose: what is queued survives a restart.
                "--appendonly",
                "yes",
                "--dir",
                str(self.folder / "redis"),
            ],
            env=dict(os.environ),
        )
        wait_until("Redis", lambda: port_open(self.redis_port), log=self.procs["redis"].log)

    def redis_stop(self) -> None:
        self.procs["redis"].stop()

    def s3_start(self) -> None:
        """The gate in front of moto: the S3 endpoint the portal uses."""
        me = [sys.executable, "-m", "ops.standins"]
        self._spawn("s3", [*me, "gate", str(self.s3_port), str(self.moto_port)])
        wait_until("S3 endpoint", lambda: port_open(self.s3_port), log=self.procs["s3"].log)

    def s3_stop(self) -> None:
        self.procs["s3"].stop()

    def beat_start(self) -> None:
        self._spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.beat_schedule),
            ],
        )
        log = self.procs["beat"].log
        wait_until("beat", lambda: "beat: Starting" in log.read_text(errors="replace"), log=log)

    def beat_stop(self) -> None:
        self.procs["beat"].stop()

    @property
    def beat_schedule(self) -> Path:
        return self.folder / "celery" / "beat-schedule"

    def worker_start(self, number: int) -> None:
        name = f"worker{number}"
        log = self.folder / "logs" / f"{name}.log"
        before = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
        self._spawn(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--hostname",
                f"{name}@stack",
            ],
        )
        wait_until(
            name,
            lambda: log.read_text(errors="replace").count(" ready.") > before,
            log=log,
        )

    def worker_children(self) -> list[int]:
        """The pool processes of every worker: the ones that run tasks."""
        found = []
        for number in range(1, self.workers + 1):
            proc = self.procs.get(f"worker{number}")
            if proc and proc.running():
                found += children_of(proc.pid)
        return found

    def web_start(self) -> None:
        self._spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "-c",
                str(ROOT / "config" / "gunicorn.py"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.web}",
                "--workers",
                str(self.web_workers),
            ],
        )
        wait_until("gunicorn /healthz", self.healthy, timeout=90, log=self.procs["web"].log)

    def web_pids(self) -> list[int]:
        """gunicorn's master and its workers."""
        master = self.procs["web"].pid
        return [master, *children_of(master)]

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as answer:  # noqa: S310
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def healthy(self) -> bool:
        return self.health()[0] == 200

    # --- the whole ------------------------------------------------------------------------

    def start(self) -> None:
        for sub in ("logs", "mail", "redis", "celery", "var", "pg"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        if self.own_postgres and os.geteuid() == 0:
            self.folder.chmod(0o755)  # the postgres user passes through to its folder
            shutil.chown(self.folder / "pg", "postgres")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.postgres_start()
        self._database_create()
        self.redis_start()
        self._spawn(
            "moto",
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.moto_port)],
            env=dict(os.environ),
        )
        me = [sys.executable, "-m", "ops.standins"]
        self._spawn("smtp", [*me, "smtp", str(self.smtp_port), str(self.mail_folder)])
        self._spawn("stripe", [*me, "stripe", str(self.stripe_port)])
        for name, port in (
            ("moto", self.moto_port),
            ("smtp", self.smtp_port),
            ("stripe", self.stripe_port),
        ):
            wait_until(name, lambda port=port: port_open(port), log=self.procs[name].log)
        self.s3_start()
        self._bucket_create()
        self._manage("migrate", "--noinput")
        self._manage("collectstatic", "--noinput")
        self.web_start()
        for number in range(1, self.workers + 1):
            self.worker_start(number)
        self.beat_start()

    def s3_client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name="us-east-1",
        )

    def _bucket_create(self) -> None:
        client = self.s3_client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=BUCKET)
        # As compose's MinIO is told to: keep every version (docs/operations.md, Backups).
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    def stop(self) -> None:
        """Stop everything this stack started, newest first, by process id."""
        for name in reversed(list(self.procs)):
            self.procs[name].stop()
        with contextlib.suppress(StackError):
            self.postgres_stop()

    # --- mail -----------------------------------------------------------------------------

    def mails(self) -> list[dict]:
        """Every message the SMTP catcher took, oldest first: to, subject, body."""
        from email import message_from_bytes, policy

        found = []
        for path in sorted(self.mail_folder.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            body = message.get_body(preferencelist=("plain",))
            found.append(
                {
                    "to": message["To"],
                    "subject": str(message["Subject"]),
                    "body": body.get_content() if body else "",
                    "raw": message,
                }
            )
        return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.stack", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the stack and keep it running until Ctrl-C")
    up.add_argument("--folder", default=str(ROOT / "var" / "stack"), help="emptied first")
    up.add_argument("--port", type=int, default=8700, help="gunicorn's port (and the 4 after)")
    up.add_argument("--redis-port", type=int, default=6390)
    up.add_argument("--postgres-port", type=int, default=5440)
    up.add_argument(
        "--database-url", default="", help="use this PostgreSQL database, not a cluster of its own"
    )
    run_up(parser.parse_args(argv))


def run_up(args) -> None:
    folder = Path(args.folder)
    shutil.rmtree(folder, ignore_errors=True)
    stack = Stack(
        folder=folder,
        web=args.port,
        redis_port=args.redis_port,
        pg_port=args.postgres_port,
        database_url=args.database_url,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Started in the background, a shell leaves SIGINT ignored: Ctrl-C must still stop it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.monotonic()
    try:
        stack.start()
        print(f"The stack is up in {time.monotonic() - started:.0f} s: {stack.url}/")
        print(f"  database {stack.db_url}, Redis {stack.redis_url}, S3 {stack.s3_url}")
        print(f"  e-mails in {stack.mail_folder}, logs in {folder / 'logs'}")
        print("  Ctrl-C stops everything.")
        while all(proc.running() for proc in stack.procs.values()):
            time.sleep(1)
        stopped = [name for name, proc in stack.procs.items() if not proc.running()]
        print(f"Stopped by itself: {', '.join(stopped)} (see its log). Stopping the rest.")
    except KeyboardInterrupt:
        print("\nStopping.")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
