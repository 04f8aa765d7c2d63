"""Queries and time of every page that grows with the data, at two sizes or more.

For each size (``--sizes``, by default 1,000 and 100,000 requests) a fresh database of its own
(bench/common.py) is filled in bulk by tests/dashboard/scene.py: the mix of
tests/dashboard/bulk.py with a family for every three requests, one in twenty started on the
phone, the access log of each case opened, a call history; a coordinator, a reviewer with five
open cases and a growing history, a family with three requests. Each page is rendered through
Django's test client as the person who opens it (no HTTP server, DEBUG off): once to warm up,
then ``--runs`` times; the median and fastest time, the queries, and the slowest query are kept.
At the largest size the slowest query of each page is explained (PostgreSQL: EXPLAIN (ANALYZE,
BUFFERS); SQLite: EXPLAIN QUERY PLAN). Writes docs/benchmarks.md.

    .venv/bin/python bench/pages.py [--sizes 1000 100000] [--runs 7] [--only Dashboard]
    DATABASE_URL=postgres://root@127.0.0.1:5432/portal .venv/bin/python bench/pages.py

Targets: at each size the same queries (± 0), and the largest size at most 1.5 times the time
of the smallest.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import analyse, configure, database_label, write_section


def clients(scene) -> dict:
    from django.test import Client

    from tests.conftest import sign_in

    return {
        persona: sign_in(Client(SERVER_NAME="localhost"), getattr(scene, persona))
        for persona in ("coordinator", "reviewer", "family")
    }


def render(client, url: str) -> tuple[float, list[dict]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - started
    check(response, url)
    return seconds, queries.captured_queries


def figures_of(renders: list[tuple[float, list[dict]]]) -> dict:
    """Median and fastest time, the query counts seen, and the slowest query (median over
    the renders; a page makes the same queries in the same order)."""
    seconds = [taken for taken, _ in renders]
    by_position = {}
    for _, queries in renders:
        for position, query in enumerate(queries):
            by_position.setdefault(position, (query["sql"], []))[1].append(float(query["time"]))
    slowest_ms, slowest_sql = max(
        ((statistics.median(times) * 1000, sql) for sql, times in by_position.values()),
        default=(0, ""),
    )
    return {
        "queries": sorted({len(queries) for _, queries in renders}),
        "median_ms": statistics.median(seconds) * 1000,
        "fastest_ms": min(seconds) * 1000,
        "slowest_ms": slowest_ms,
        "slowest_sql": slowest_sql,
    }


def check(response, url) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}, not 200.")


def explain(sql: str) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return ""
    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return "\n".join(row[0] for row in rows)
    return "\n".join(" ".join(str(cell) for cell in row) for row in rows)


def use(name: str) -> None:
    """Point Django at the database ``name`` (a new connection on the next query)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def fill_size(size: int) -> tuple[str, dict, list]:
    """A database of its own with ``size`` requests: its name, the signed-in clients, and
    the pages with their addresses."""
    from django.db import connection

    from tests.dashboard.scene import pages, scene_build

    connection.settings_dict["TEST"]["NAME"] = f"{BASE_TEST_NAME}_{size}"
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] += ".sqlite3"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    scene = scene_build(count=size, now=now)
    analyse(connection)
    print(f"{size:,} requests filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return name, clients(scene), pages(scene)


BASE_TEST_NAME = ""


def main() -> int:
    global BASE_TEST_NAME
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", nargs="*", default=[], help="Page names, as in the report.")
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    (scratch / "static").mkdir()
    configure(scratch, "pages")
    from django.db import connection

    original = connection.settings_dict["NAME"]
    BASE_TEST_NAME = connection.settings_dict["TEST"]["NAME"]
    made = {}
    try:
        for size in options.sizes:
            made[size] = fill_size(size)
            use(original)
        by_size, database = measure_all(made, options.runs, options.only)
    finally:
        for name, _, _ in made.values():
            use(name)
            connection.creation.destroy_test_db(original, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)

    summary = summarise(by_size)
    print(json.dumps({"database": database, "pages": summary}, indent=2, default=str))
    if not options.no_write:
        write_report(database, options.sizes, options.runs, by_size, summary)
    met = all(row["same_queries"] and row["ratio"] <= 1.5 for row in summary.values())
    return 0 if met else 1


def measure_all(made: dict, runs: int, only: list[str]) -> tuple[dict, str]:
    """Each page at every size in turn, run after run, so that the sizes share whatever
    else the machine is doing: after switching database, one render untimed (a new
    connection fills its caches), then one timed. The slowest query of each page is
    explained on the largest size."""
    from django.db import connection

    largest = max(made)
    by_size = {size: {} for size in made}
    names = [name for name, _, _ in made[largest][2] if not only or name in only]
    for name in names:
        renders = {size: [] for size in made}
        loads = []
        for _ in range(runs):
            for size, (database, signed_in, pages) in made.items():
                persona, url = next((who, url) for page, who, url in pages if page == name)
                use(database)
                render(signed_in[persona], url)
                renders[size].append(render(signed_in[persona], url))
            loads.append(os.getloadavg()[0])
        for size in made:
            by_size[size][name] = {
                **figures_of(renders[size]),
                "persona": persona,
                "load": statistics.median(loads),
            }
        use(made[largest][0])
        by_size[largest][name]["explain"] = explain(by_size[largest][name]["slowest_sql"])
        print(
            f"  {name}: "
            + ", ".join(
                f"{size:,}: {by_size[size][name]['queries']} queries "
                f"{by_size[size][name]['median_ms']:.0f} ms"
                for size in made
            ),
            file=sys.stderr,
        )
    return by_size, database_label(connection)


def summarise(by_size: dict) -> dict:
    smallest, largest = min(by_size), max(by_size)
    summary = {}
    for name, small in by_size[smallest].items():
        large = by_size[largest][name]
        counts = {size: by_size[size][name]["queries"] for size in by_size}
        summary[name] = {
            "persona": small["persona"],
            "queries": counts,
            "same_queries": len({tuple(c) for c in counts.values()}) == 1
            and len(counts[smallest]) == 1,
            "median_ms": {size: round(by_size[size][name]["median_ms"], 1) for size in by_size},
            "ratio": large["median_ms"] / small["median_ms"],
            "fastest_ratio": large["fastest_ms"] / small["fastest_ms"],
            "load": round(large["load"], 1),
            "slowest_ms": round(large["slowest_ms"], 1),
        }
    return summary


SECTION = "## Pages at scale (bench/pages.py)"


def write_report(database, sizes, runs, by_size, summary) -> None:
    """This database's table and plans; the other database's part of the section is kept."""
    from common import REPORT

    text = REPORT.read_text() if REPORT.exists() else ""
    kept = {}
    if SECTION in text:
        body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
        for part in body.split("\n### ")[1:]:
            title = part.split("\n", 1)[0].strip()
            kept[title] = "### " + part.rstrip() + "\n"
    smallest, largest = min(sizes), max(sizes)
    head = " / ".join(f"{size:,}" for size in sizes)
    lines = [
        f"### {database}",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d}; median of {runs} renders (fastest in "
        "brackets), queries per render, the sizes taking turns render by render; the "
        "machine's load average (two CPUs, shared) during the run: "
        + f"{statistics.median(row['load'] for row in by_size[largest].values()):.1f}.",
        "",
        f"| page | who | queries ({head}) | median (fastest) ({head}) | ratio of medians "
        f"(of fastest) | slowest query at {largest:,} |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in summary.items():
        queries = " / ".join(str(row["queries"][size][0]) for size in sizes)
        medians = " / ".join(
            f"{by_size[size][name]['median_ms']:.0f} ms ({by_size[size][name]['fastest_ms']:.0f})"
            for size in sizes
        )
        lines.append(
            f"| {name} | {row['persona']} | {queries} | {medians} | {row['ratio']:.2f} "
            f"({row['fastest_ratio']:.2f}) | {row['slowest_ms']:.1f} ms |"
        )
    plans = []
    for name, figures in by_size[largest].items():
        if figures.get("explain"):
            plans += [
                f"<details><summary>{name}: the slowest query at {largest:,} requests, "
                f"{figures['slowest_ms']:.1f} ms</summary>",
                "",
                "```sql",
                figures["slowest_sql"],
                "```",
                "",
                "```",
                figures["explain"],
                "```",
                "</details>",
                "",
            ]
    kept[database] = "\n".join(lines) + "\n\n" + "\n".join(plans)
    body = (
        INTRO.format(smallest=smallest, largest=largest)
        + "\n"
        + "\n".join(kept[title] for title in sorted(kept))
        + "\n"
        + COMMANDS
    )
    write_section(SECTION, body)


INTRO = """
Every page a coordinator, a reviewer or a family opens all day whose data grows with the
requests, rendered through Django's test client as the person who opens it (no HTTP server,
DEBUG off, a signed-in session), on a fresh database filled in bulk by
`tests/dashboard/scene.py`: the mix of `tests/dashboard/bulk.py` (of every hundred requests,
ninety-one delivered over three years, six open, one draft, one cancelled, one refunded), a
family for every three requests, one request in twenty started on the phone, the access log
of each case opened (by its reviewer, and by its family once delivered), a call for every ten
requests. The coordinator sees everything; the reviewer has five cases open and a twentieth
of all delivered reviews behind them; the family has three requests. Target: the same
queries at {smallest:,} and {largest:,} requests, and at most 1.5 times the time. A shared
two-CPU machine: figures move by a tenth from one run to the next, more when others are
busy. Each list shows as many rows at both sizes where it can: the status filter is measured
on "delivered" (a full page at both sizes; only 20 requests are in review at {smallest:,}),
and the phone-led funnel shows 50 a page (50 were started by phone at {smallest:,}). The
dashboard lists open work, which grows with the hospital in this mix: 4 open breaches at
{smallest:,} requests and 325 at {largest:,} (10 shown), 22 and 2,002 requests in review
(25 shown); its ratio includes those rows. The targets are PostgreSQL's; on SQLite the
dashboard and My reviews grow more (SQLite finds a reviewer's open cases among all their
assignments, and counts the open work without PostgreSQL's index-only reads).
"""

COMMANDS = """
    .venv/bin/python bench/pages.py [--sizes 1000 100000] [--only "My reviews"]
    DATABASE_URL=postgres://root@127.0.0.1:5432/portal .venv/bin/python bench/pages.py
"""


if __name__ == "__main__":
    sys.exit(main())
