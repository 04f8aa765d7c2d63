"""Admin changelists over tables that grow with the requests (requests, payments, calls, the
access log): what they count. Django's changelist counts the whole table for its paginator
(``SELECT COUNT(*)``), which on PostgreSQL reads every row; past ``ESTIMATE_ABOVE`` rows the
unfiltered list uses PostgreSQL's own estimate instead (kept by ANALYZE and autovacuum) and
says "about". A filtered or searched list is counted exactly (its filter's index answers),
without the second count of the whole table (``show_full_result_count = False``). In config
so that every app may use it."""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 10_000


def estimated_rows(queryset) -> int | None:
    """PostgreSQL's estimate of the rows of ``queryset``'s table when it has no filter; None
    when the count must be exact (a filter, another database, a table never analysed)."""
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.where or query.distinct or query.combinator:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Pages of a changelist whose unfiltered count is PostgreSQL's estimate once the table
    is large (``estimated`` is then True, and the page says "about")."""

    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = estimated_rows(self.object_list)
        if estimate is not None and estimate > ESTIMATE_ABOVE:
            self.estimated = True
            return estimate
        return super().count


class LargeTableAdmin:
    """A model admin mixin for tables that grow with the requests: estimated counts and no
    second count of the whole table. No ``date_hierarchy`` either: its year links read every
    row (``SELECT DISTINCT`` of the truncated dates), so those lists filter by date with
    Django's ``DateFieldListFilter`` (today, the past seven days, this month, this year),
    which reads nothing."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
