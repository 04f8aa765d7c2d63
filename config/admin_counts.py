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


def counted(queryset) -> tuple[int, bool] | None:
    """On PostgreSQL and without a filter, ``queryset``'s rows and whether that is an
    estimate, in one query: the planner's estimate past ``ESTIMATE_ABOVE`` rows, else an
    exact count (the ``CASE`` runs the count only when it is needed; a table never analysed
    is counted). None when Django's own count must do (a filter, another database)."""
    connection = connections[queryset.db]
    query = queryset.query
    if connection.vendor != "postgresql" or query.where or query.distinct or query.combinator:
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT CASE WHEN reltuples > %s THEN reltuples::bigint"  # noqa: S608 (a table name)
            f" ELSE (SELECT COUNT(*) FROM {table}) END, reltuples > %s"
            " FROM pg_class WHERE oid = %s::regclass",
            [ESTIMATE_ABOVE, ESTIMATE_ABOVE, table],
        )
        return cursor.fetchone()


class EstimatedCountPaginator(Paginator):
    """Pages of a changelist whose unfiltered count is PostgreSQL's estimate once the table
    is large (``estimated`` is then True, and the page says "about")."""

    estimated = False

    @cached_property
    def count(self) -> int:
        found = counted(self.object_list)
        if found is None:
            return super().count
        rows, self.estimated = found
        return rows


class LargeTableAdmin:
    """A model admin mixin for tables that grow with the requests: estimated counts and no
    second count of the whole table. No ``date_hierarchy`` either: its year links read every
    row (``SELECT DISTINCT`` of the truncated dates), so those lists filter by date with
    Django's ``DateFieldListFilter`` (today, the past seven days, this month, this year),
    which reads nothing."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
