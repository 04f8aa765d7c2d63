"""Filters for the portal's logs."""

import logging
import re

QUERY_STRING = re.compile(r"\?\S*")


class QueryStringDropped(logging.Filter):
    """The development server logs each request line ("GET /admin/…?q=… HTTP/1.1"): the query
    string is dropped, since a search by a family's e-mail address would be in it (gunicorn's
    access log does the same, config/gunicorn.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args and isinstance(record.args[0], str):
            record.args = (QUERY_STRING.sub("", record.args[0]), *record.args[1:])
        return True
