"""What the benchmarks under bench/ share: a scratch database of their own, its label, and
rewriting one section of docs/benchmarks.md."""

import os
import re
import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"


def configure(scratch: Path, name: str) -> None:
    """Django set up as in production but on a database of the bench's own (SQLite in
    ``scratch``; with DATABASE_URL naming PostgreSQL, ``<its name>_bench_<name>`` beside it),
    never one a test run or a developer is using."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",
            "PORTAL_VAR_DIR": str(scratch),
            "DJANGO_ENV_FILE": "/nonexistent",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "memory://",
        }
    )
    import django
    from django.db import connection

    django.setup()
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        database["TEST"]["NAME"] = str(scratch / f"bench_{name}.sqlite3")
    else:
        database["TEST"]["NAME"] = f"{database['NAME']}_bench_{name}"


def database_label(connection) -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}"
    return f"SQLite {sqlite3.sqlite_version}"


def analyse(connection) -> None:
    """After a bulk load, what autovacuum would have done by the time anyone looks: fresh
    statistics and (PostgreSQL) the visibility map that lets index-only scans skip the
    table; SQLite's statistics for its planner."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def rows_of(section: str, text: str, key_cells: int = 2) -> dict:
    """The table rows of ``section`` already in the report, by their first ``key_cells``."""
    found = re.search(re.escape(section) + r"\n.*?(?=\n## |\Z)", text, re.S)
    rows = {}
    if found:
        for line in found.group(0).splitlines():
            if line.startswith("| ") and not line.startswith("|---"):
                cells = tuple(cell.strip() for cell in line.strip("|").split("|"))
                if cells[0] != "database" and cells[0] != "page":
                    rows[cells[:key_cells]] = line
    return rows


def write_section(section: str, body: str) -> None:
    """Replace ``section`` (a "## " heading) of docs/benchmarks.md with ``body``, in place."""
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(section) + r"\n.*?(?=\n## |\Z)", re.S)
    new = f"{section}\n\n{body.strip()}\n"
    if pattern.search(text):
        text = pattern.sub(lambda _: new, text)
    else:
        text = text.rstrip() + "\n\n" + new
    REPORT.write_text(text)
