"""What the logs keep of a request line: the path, never the query string."""

import logging


def test_the_development_servers_request_lines_lose_their_query_string(caplog):
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").info(
            '"%s" %s %s',
            "GET /admin/intake/reviewrequest/?q=family%40example.org HTTP/1.1",
            200,
            512,
        )

    assert caplog.messages == ['"GET /admin/intake/reviewrequest/ HTTP/1.1" 200 512']
