"""Time and queries of the deadline sweep with a backlog of due alerts.

Fills a database of its own (see bench/common.py) in bulk with ``--requests`` requests in the
mix of tests/dashboard/bulk.py, lets one untimed sweep send what that fill left due, then for
each size in ``--due`` adds requests in review whose reviewer reminder and coordinator alert
(at the target) are both due (two alerts each, one e-mail each) and times the sweep that
sends them: median and fastest of ``--runs`` sweeps (the alerts and e-mails of one run are
deleted before the next), and the queries of one. Last, a sweep with nothing due. Writes the
figures to docs/benchmarks.md.

    .venv/bin/python bench/sweep.py [--requests 50000] [--due 100 2000] [--runs 3]
    DATABASE_URL=postgres://root@127.0.0.1:5432/portal .venv/bin/python bench/sweep.py

Targets (PostgreSQL): 2,000 due alerts in at most 3 s and 50 queries; nothing due, a handful
of queries.
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import analyse, configure, database_label, rows_of, write_section


def add_due(*, alerts: int, now: datetime, first: int) -> list[int]:
    """``alerts // 2`` requests in review, paid eight days ago: the reminder (two days left
    to the target) and the target alert (overdue by a day) are due, the escalation is not."""
    from accounts.models import Role, User
    from intake.lifecycle import Status
    from intake.models import ReviewRequest, ReviewService
    from reviews.models import ReviewAssignment

    services = list(ReviewService.objects.order_by("pk"))
    reviewers = list(User.objects.filter(role=Role.REVIEWER).order_by("pk"))
    family = User.objects.filter(role=Role.FAMILY).first()
    submitted_at = now - timedelta(days=8)
    requests = []
    for n in range(alerts // 2):
        service = services[n % len(services)]
        requests.append(
            ReviewRequest(
                reference=f"DU{first + n:010d}",
                service=service,
                family=family,
                status=Status.IN_REVIEW,
                created_at=submitted_at - timedelta(hours=3),
                awaiting_payment_at=submitted_at - timedelta(minutes=30),
                submitted_at=submitted_at,
                in_review_at=submitted_at + timedelta(hours=1),
                due_target_at=submitted_at + timedelta(days=service.target_days),
                due_limit_at=submitted_at + timedelta(days=service.limit_days),
                fee_cents=service.fee_cents,
                currency=service.currency,
            )
        )
    requests = ReviewRequest.objects.bulk_create(requests)
    ReviewAssignment.objects.bulk_create(
        ReviewAssignment(
            request=request,
            reviewer=reviewers[n % len(reviewers)],
            is_lead=True,
            assigned_at=request.in_review_at,
        )
        for n, request in enumerate(requests)
    )
    return [request.pk for request in requests]


def sweep_once(now: datetime) -> tuple[int, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reviews.deadlines import deadline_alerts_send_due

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        recorded = deadline_alerts_send_due(now=now, budget_seconds=600)
        seconds = time.perf_counter() - started
    return recorded, seconds, len(queries.captured_queries)


def measure(*, alerts: int, now: datetime, first: int, runs: int) -> dict:
    from notifications.models import Message
    from reviews.models import DeadlineAlert

    ids = add_due(alerts=alerts, now=now, first=first)
    last_message = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    seconds, counts, recorded = [], set(), set()
    for _ in range(runs):
        DeadlineAlert.objects.filter(request_id__in=ids).delete()
        Message.objects.filter(pk__gt=last_message).delete()
        done, taken, queries = sweep_once(now)
        recorded.add(done)
        seconds.append(taken)
        counts.add(queries)
    e_mails = Message.objects.filter(pk__gt=last_message).count()
    return {
        "due": alerts,
        "recorded": sorted(recorded),
        "e_mails": e_mails,
        "queries": sorted(counts),
        "median_s": statistics.median(seconds),
        "fastest_s": min(seconds),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--due", type=int, nargs="+", default=[100, 2000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="Do not update docs/benchmarks.md.")
    options = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    (scratch / "static").mkdir()
    configure(scratch, "sweep")
    from dashboard import fill
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    results = []
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        fill(options.requests, now)
        backlog, _, _ = sweep_once(now)  # what the fill left due, sent untimed
        first = 0
        for alerts in options.due:
            analyse(connection)
            results.append(measure(alerts=alerts, now=now, first=first, runs=options.runs))
            first += alerts
        _, idle_seconds, idle_queries = sweep_once(now)
        database = database_label(connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(scratch, ignore_errors=True)

    idle = {"queries": idle_queries, "ms": idle_seconds * 1000}
    print(
        json.dumps(
            {
                "database": database,
                "requests": options.requests,
                "fill_backlog": backlog,
                "sweeps": results,
                "idle": idle,
            },
            indent=2,
        )
    )
    if not options.no_write:
        write_report(database, options.requests, options.runs, results, idle)
    return 0


SECTION = "## Deadline sweep (bench/sweep.py)"


def write_report(database, requests, runs, results, idle) -> None:
    from common import REPORT

    rows = rows_of(SECTION, REPORT.read_text() if REPORT.exists() else "", key_cells=3)
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    for result in results:
        key = (database, f"{requests:,}", f"{result['due']:,}")
        rows[key] = (
            f"| {database} | {requests:,} | {result['due']:,} | {result['e_mails']:,} "
            f"| {result['queries'][-1]} | {result['median_s']:.2f} s | {result['fastest_s']:.2f} s "
            f"| {today} |"
        )
    rows[(database, f"{requests:,}", "0")] = (
        f"| {database} | {requests:,} | 0 | 0 | {idle['queries']} | {idle['ms'] / 1000:.2f} s "
        f"| {idle['ms'] / 1000:.2f} s | {today} |"
    )

    def order(item):
        database, requests, due = item[0]
        return database, int(requests.replace(",", "")), int(due.replace(",", ""))

    table = "\n".join(line for _, line in sorted(rows.items(), key=order))
    write_section(
        SECTION,
        f"""
A fresh database filled in bulk with the mix of `tests/dashboard/bulk.py` (*requests*),
then as many alerts due at once as *due alerts*: requests in review paid eight days ago,
whose reviewer reminder and coordinator alert are both due (one e-mail each). The sweep
that sends them, median and fastest of {runs} runs on a shared two-CPU machine (each run
starts with the same alerts due), with the e-mails queued on an in-memory broker; the
row with 0 due alerts is a sweep with nothing to send.

| database | requests | due alerts | e-mails | queries | median | fastest | measured |
|---|---|---|---|---|---|---|---|
{table}

Alerts go in batches of up to 500 requests of one kind: the due requests' ids (an index
range and an anti-join on the alerts sent), then in one transaction the batch locked and
read again, the holidays when a department counts business days, the recipients (the
panels, or the coordinators), one `INSERT … ON CONFLICT DO NOTHING RETURNING` of the alert
rows and one insert of their e-mails. Each alert's e-mail is written once for all its
recipients; the e-mails go to the worker twenty to a task. Before, each alert was its own
transaction of four to eight queries: 2,071 due alerts over 50,000 requests took 29.6 s and
about 9,000 queries on PostgreSQL (issue 15). SQLite takes more queries for the same
batches because Django splits an insert of many rows by SQLite's limit on parameters (the
e-mails: about 80 rows a statement). The exactly-once tests (two sweeps racing through
small batches on PostgreSQL, a worker killed between the alert rows and their e-mails, a
batch that fails) are in `tests/reviews/test_deadlines.py` and
`tests/reviews/test_deadlines_worker.py`, with the query counts: the same for 3 and for 30
due requests, five for a sweep with nothing due.

    .venv/bin/python bench/sweep.py [--requests 50000] [--due 100 2000]
    DATABASE_URL=postgres://root@127.0.0.1:5432/portal .venv/bin/python bench/sweep.py
""",
    )


if __name__ == "__main__":
    sys.exit(main())
