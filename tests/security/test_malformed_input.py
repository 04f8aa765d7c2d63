"""Malformed input never gives a 500.

Every page is walked as the person who uses it: every field of every form it shows (and the
fields of POST-only pages), every query parameter, every id of its address, and raw bodies,
filled with hostile values (``tests/security/walk.py``): NUL characters (PostgreSQL refuses
them in text), a megabyte of text, impossible dates, huge and negative numbers, unknown
choices, a field sent twice, broken UTF-8 and lone surrogates, bodies of the wrong type, a
Content-Length far beyond the body or not a number, and Host headers of no site of ours. The
answer is a 4xx or the form again, never a 500. Run on SQLite and on PostgreSQL.
"""

import json
import os

import pytest
from django.test import Client

from tests.security.conftest import enter
from tests.security.probe import all_probes
from tests.security.walk import walk

pytestmark = pytest.mark.django_db

PROBES = all_probes()

# Fields of POST-only pages (there is no page to read them from).
POST_FIELDS = {
    "accounts:logout": ("next",),
    "admin:logout": ("next",),
    "intake:start": (),
    "intake:request_answer": ("text", "next"),
    "intake:request_invite": ("guardian-email", "next"),
    "intake:request_link_revoke": ("next",),
    "intake:request_access_remove": ("next",),
    "records:upload": ("kind", "next"),
    "records:remove": ("next",),
    "billing:pay": (),
    "billing:stripe_webhook": ("type", "id"),
    "reviews:autosave": (
        "findings",
        "conclusion",
        "recommendation",
        "next_steps",
        "next_steps_present",
        "confidence",
    ),
    "reviews:amend": (),
    "reviews:follow_up_answer": ("answer",),
    "reviews:follow_up_ask": ("question",),
}


def _report(key, persona, result):
    """With PROBE_REPORT set, one JSON line per page: the figures of the probe."""
    if path := os.environ.get("PROBE_REPORT"):
        line = {"page": key, "persona": persona, "sent": result.sent, "failures": result.failures}
        with open(path, "a") as report:
            report.write(json.dumps(line, default=str) + "\n")


@pytest.mark.parametrize("key", sorted(PROBES))
def test_hostile_input_never_gives_a_server_error(request, world, key):
    probe = PROBES[key]
    client = Client(raise_request_exception=False)
    user = request.getfixturevalue(probe.reach)
    enter(client, probe.reach, user)

    result = walk(client, probe.build(world), probe.methods, fields=POST_FIELDS.get(key, ()))

    _report(key, probe.reach, result)
    assert not result.failures, "\n".join(map(str, result.failures))
