"""What the logs keep of a request line: the path, never the query string."""

import logging


class Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_the_development_servers_request_lines_lose_their_query_string():
    server = logging.getLogger("django.server")
    kept = Kept()
    server.addHandler(kept)
    try:
        server.info(
            '"%s" %s %s',
            "GET /admin/intake/reviewrequest/?q=family%40example.org HTTP/1.1",
            200,
            512,
        )
    finally:
        server.removeHandler(kept)

    assert kept.lines == ['"GET /admin/intake/reviewrequest/ HTTP/1.1" 200 512']
