"""The restore drill: restore a database dump into a fresh database and check every stored
object against it.

    .venv/bin/python -m ops.restore_drill --database-url postgres://…/portal [--dump FILE]

Without ``--dump`` it first dumps ``--database-url`` (``pg_dump -Fc``), as the nightly backup
does. The dump is restored (``pg_restore``) into a new database on the same server
(``<name>_drill_<time>``, dropped afterwards unless ``--keep``). Then every document, held file
and preview row of the restored database is read back from the bucket and hashed against its
row's SHA-256, and the bucket's ``documents/`` and ``previews/`` are listed for objects that no
row names. The report lists rows whose object is missing, rows whose object differs, and
objects without a row; the exit status is 1 if a row has no good object.

The bucket comes from the portal's own variables: ``S3_BUCKET``, ``S3_ENDPOINT_URL``,
``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``, ``S3_REGION``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import boto3
import psycopg

TABLES = ("records_document", "records_heldfile", "records_preview")
FOLDERS = ("documents/", "previews/")


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode:
        raise SystemExit(f"{argv[0]} failed:\n{done.stderr[-3000:]}")


def dump(database_url: str, path: Path) -> None:
    _run([shutil.which("pg_dump") or "pg_dump", "-Fc", "--no-owner", "-f", str(path), database_url])


def restore(database_url: str, dump_path: Path) -> str:
    """A fresh database on the same server, with the dump restored into it: its URL."""
    source = urlsplit(database_url).path.lstrip("/")
    fresh = f"{source}_drill_{time.strftime('%Y%m%d%H%M%S')}"
    with psycopg.connect(_with_database(database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{fresh}"')
    url = _with_database(database_url, fresh)
    _run([shutil.which("pg_restore") or "pg_restore", "--no-owner", "-d", url, str(dump_path)])
    return url


def drop(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_with_database(database_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bucket_client():
    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        region_name=os.environ.get("S3_REGION", "us-east-1"),
    )


def verify(database_url: str, bucket: str, client=None) -> dict:
    """Every row's object hashed against the row; every object matched to a row."""
    client = client or bucket_client()
    rows: dict[str, tuple[str, str]] = {}
    with psycopg.connect(database_url) as conn:
        for table in TABLES:
            for key, sha256 in conn.execute(f"SELECT storage_key, sha256 FROM {table}"):  # noqa: S608
                rows[key] = (table, sha256)
    report = {"rows": len(rows), "checked": 0, "missing": [], "different": [], "orphans": []}
    for key, (table, sha256) in sorted(rows.items()):
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
        except client.exceptions.NoSuchKey:
            report["missing"].append(f"{table} {key}")
            continue
        digest = hashlib.sha256()
        while chunk := body.read(1 << 20):
            digest.update(chunk)
        report["checked"] += 1
        if digest.hexdigest() != sha256:
            report["different"].append(f"{table} {key}")
    for folder in FOLDERS:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
            for item in page.get("Contents", []):
                if item["Key"] not in rows:
                    report["orphans"].append(item["Key"])
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.restore_drill", description=__doc__)
    parser.add_argument(
        "--database-url",
        required=True,
        help="the database to dump, or whose server gets the fresh one",
    )
    parser.add_argument("--dump", help="a dump (pg_dump -Fc) to restore instead of a new one")
    parser.add_argument("--bucket", default=os.environ.get("S3_BUCKET", ""))
    parser.add_argument("--keep", action="store_true", help="keep the restored database")
    args = parser.parse_args(argv)
    if not args.bucket:
        parser.error("set S3_BUCKET or --bucket")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="drill-") as folder:
        dump_path = Path(args.dump) if args.dump else Path(folder) / "portal.dump"
        if not args.dump:
            dump(args.database_url, dump_path)
        restored = restore(args.database_url, dump_path)
    try:
        report = verify(restored, args.bucket)
    finally:
        if not args.keep:
            drop(restored)
    report["restored_into"] = urlsplit(restored).path.lstrip("/")
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    return 1 if report["missing"] or report["different"] else 0


if __name__ == "__main__":
    sys.exit(main())
