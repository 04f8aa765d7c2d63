"""Peak memory of the web process while a family uploads a 1 GB imaging file.

Starts the portal (its own SQLite database and file folder in a scratch directory), signs a
family in, streams a 1 GB DICOM file to the upload endpoint over HTTP, samples the server's
resident memory from /proc while it arrives, and writes the figures to docs/benchmarks.md.

    .venv/bin/python bench/upload_memory.py [--size-mb 1024]

The target: the web process grows by less than 64 MB (the file goes to disk, never to memory).
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from common import write_section

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 64
PORT = 8765


def make_dicom(path: Path, size_mb: int) -> None:
    """A valid DICOM Part 10 file whose pixel data makes it ``size_mb`` large, written in
    chunks (neither this script nor the server ever holds it in memory)."""
    from pydicom.data import get_testdata_file

    with open(get_testdata_file("CT_small.dcm"), "rb") as sample:
        data = sample.read()
    header_end = data.index(b"\xe0\x7f\x10\x00")  # the pixel data element starts here
    pixels = size_mb * 1024 * 1024
    with open(path, "wb") as out:
        out.write(data[:header_end])
        out.write(b"\xe0\x7f\x10\x00OB\x00\x00" + pixels.to_bytes(4, "little"))
        chunk = b"\0" * (4 * 1024 * 1024)
        for _ in range(pixels // len(chunk)):
            out.write(chunk)
        out.write(b"\0" * (pixels % len(chunk)))


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024


def manage(env, *args, stdin=None) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


SETUP = """
from accounts.models import Role
from accounts.services import user_set_role
from accounts.models import User
from django.utils import timezone
from intake.models import Department, ReviewService
from intake.services import review_request_create
user = User.objects.create_user(email="bench@example.org", password="bench-password-1234",
                                email_verified_at=timezone.now())
user_set_role(user=user, role=Role.FAMILY)
department = Department.objects.create(name="Orthopedics", slug="orthopedics", phone="404-555-0110")
service = ReviewService.objects.create(
    department=department, name="Spine", slug="spine", summary="x", readers="x", fee_cents=50000
)
print(review_request_create(service=service, family=user).reference)
"""


class Session:
    def __init__(self):
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=600)
        headers = dict(headers or {})
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";")[0]
        content = response.read()
        connection.close()
        return response.status, content

    def csrf(self, path):
        _, page = self.request("GET", path)
        return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()


def stream_upload(session: Session, path: str, csrf: str, file_path: Path) -> tuple[int, bytes]:
    """multipart/form-data sent piece by piece, so the client does not hold the file either."""
    boundary = secrets.token_hex(16)
    part = f"--{boundary}\r\nContent-Disposition: form-data; "
    head = (
        f'{part}name="csrfmiddlewaretoken"\r\n\r\n{csrf}\r\n'
        f'{part}name="kind"\r\n\r\nimaging\r\n'
        f'{part}name="file"; filename="{file_path.name}"\r\n'
        "Content-Type: application/dicom\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + file_path.stat().st_size + len(tail)
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=1800)
    connection.putrequest("POST", path)
    for name, value in {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(length),
        "Accept": "application/json",
        "Cookie": "; ".join(f"{k}={v}" for k, v in session.cookies.items()),
        "Origin": f"http://127.0.0.1:{PORT}",
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    connection.send(head)
    with open(file_path, "rb") as file:
        for chunk in iter(lambda: file.read(1024 * 1024), b""):
            connection.send(chunk)
    connection.send(tail)
    response = connection.getresponse()
    return response.status, response.read()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "PORTAL_VAR_DIR": str(scratch),
        "DJANGO_ENV_FILE": "/nonexistent",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "memory://",
        "TMPDIR": str(scratch),
    }
    manage(env, "migrate", "--noinput")
    reference = manage(env, "shell", stdin=SETUP).strip().splitlines()[-1]
    big = scratch / "study-1gb.dcm"
    make_dicom(big, options.size_mb)

    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "manage.py",
            "runserver",
            f"127.0.0.1:{PORT}",
            "--noreload",
            "--nothreading",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        session = Session()
        for _ in range(100):
            try:
                session.request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        token = session.csrf("/accounts/sign-in/")
        session.request(
            "POST",
            "/accounts/sign-in/",
            body=f"csrfmiddlewaretoken={token}&username=bench%40example.org&password=bench-password-1234",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://127.0.0.1:{PORT}",
            },
        )
        csrf = session.csrf(f"/requests/{reference}/records/")
        baseline = rss_mb(server.pid)
        peak = baseline
        done = threading.Event()

        def sample():
            nonlocal peak
            while not done.is_set():
                peak = max(peak, rss_mb(server.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.monotonic()
        status, body = stream_upload(session, f"/requests/{reference}/files/", csrf, big)
        seconds = time.monotonic() - started
        done.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)  # gigabytes of test files

    growth = peak - baseline
    accepted = status == 201
    print(
        json.dumps(
            {
                "status": status,
                "response": body[:200].decode(errors="replace"),
                "size_mb": options.size_mb,
                "baseline_mb": round(baseline, 1),
                "peak_mb": round(peak, 1),
                "growth_mb": round(growth, 1),
                "seconds": round(seconds, 1),
            },
            indent=2,
        )
    )
    ok = accepted and growth < TARGET_MB
    if not options.no_write:
        write_report(options.size_mb, baseline, peak, growth, seconds, ok)
    return 0 if ok else 1


def write_report(size_mb, baseline, peak, growth, seconds, ok) -> None:
    body = (
        f"A {size_mb:,} MB DICOM file streamed to the upload endpoint of the web process "
        f"(runserver, one thread, local storage), measured {datetime.now(UTC):%Y-%m-%d}:\n\n"
        "| baseline | peak | growth | target | time | result |\n|---|---|---|---|---|---|\n"
        f"| {baseline:.0f} MB | {peak:.0f} MB | {growth:.1f} MB | < {TARGET_MB} MB "
        f"| {seconds:.0f} s | {'met' if ok else 'MISSED'} |\n\n"
        "The file goes to a temporary file as it arrives (Django's upload handlers), is checked\n"
        "and hashed in 1 MB chunks, and is copied to storage in chunks: memory does not grow with\n"
        "its size.\n"
    )
    write_section("## Upload memory (bench/upload_memory.py)", body)


if __name__ == "__main__":
    sys.exit(main())
