"""A family's whole document review over HTTP against the running stack, from sign-up to the
delivered opinion, with the e-mails in the SMTP catcher and the objects in S3 checked."""

import hashlib
import json
import re
import time

import stripe

from ops.stack import BUCKET, STRIPE_WEBHOOK_SECRET
from tests.reviews.panel_setup import FINAL as PANEL_FINAL
from tests.reviews.panel_setup import OPINION
from tests.stack import files
from tests.stack.client import Browser

PASSWORD = "a long family passphrase 42"
CHILD = ("Maya", "Rivera")
DIAGNOSIS = "Adolescent idiopathic scoliosis"


def wait_for(what, test, timeout=120, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := test():
            return result
        time.sleep(every)
    raise AssertionError(f"Timed out waiting for {what}.")


def mails_to(stack, address):
    return [m for m in stack.mails() if address in m["to"]]


def sign_up(stack, browser, email):
    browser.submit(
        "/accounts/sign-up/",
        data={"full_name": "Jordan Rivera", "email": email, "password": PASSWORD},
    )
    assert browser.last.status_code == 200, browser.text()[:500]
    mail = wait_for("the confirmation e-mail", lambda: mails_to(stack, email))[0]
    link = re.search(r"https?://\S+/accounts/confirm/\S+/", mail["body"]).group(0)
    browser.get(link)
    assert browser.last.status_code == 200


def book_a_call(browser, email):
    page = browser.get("/calls/orthopedics/")
    link = re.search(r'href="([^"]*book/\?[^"]*)"', page.text).group(1).replace("&amp;", "&")
    browser.submit(
        link,
        data={
            "parent_name": "Jordan Rivera",
            "phone": "912-555-0143",
            "email": email,
            "child_first_name": CHILD[0],
            "child_age": "12",
            "diagnosis": DIAGNOSIS,
            "current_hospital": "Savannah Clinic",
            "reason": "A second opinion on surgery.",
            "consent_to_contact": "on",
        },
    )
    assert "/calls/booked/" in browser.last.url, browser.text()[:1500]


def start_request(browser, service) -> str:
    browser.submit(
        f"/services/{service}/",
        data={"state": "GA", "zip_code": "31401", "patient_age": "12", "hospitalized": "no"},
    )
    browser.submit(form="/start/")
    reference = re.search(r"/requests/([A-Z0-9-]+)/", browser.last.url).group(1)
    return reference


def fill_wizard(browser, reference):
    base = f"/requests/{reference}"
    browser.submit(
        f"{base}/you/",
        data={
            "legal_name": "Jordan Avery Rivera",
            "relationship": "mother",
            "has_legal_authority": "on",
            "phone": "912-555-0143",
            "address_line1": "12 Oak St",
            "city": "Savannah",
            "state": "GA",
            "zip_code": "31401",
        },
    )
    browser.submit(
        f"{base}/child/",
        data={
            "first_name": CHILD[0],
            "last_name": CHILD[1],
            "date_of_birth": "2014-05-30",
            "sex": "female",
            "prior_diagnosis": DIAGNOSIS,
            "questions": "Is surgery needed now?",
        },
    )
    browser.submit(f"{base}/medical-history/", data={"back_pain": "yes"})
    browser.submit(f"{base}/consent/", data={"typed_name": "Jordan Avery Rivera", "agree": "on"})
    browser.submit(
        f"{base}/referral/",
        data={"name": "Dr. Lee", "practice": "Savannah Pediatrics", "phone": "912-555-0100"},
    )


def upload(browser, reference, kind, name, content):
    browser.get(f"/requests/{reference}/records/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.last.text).group(1)
    return browser.post(
        f"/requests/{reference}/files/",
        data={"csrfmiddlewaretoken": token, "kind": kind},
        files={"file": (name, content)},
        headers={"Accept": "application/json"},
    )


def send_and_pay(stack, browser, reference) -> dict:
    """Send the request, press Pay, pay on "Stripe's page" (the stand-in), and have Stripe's
    signed webhook delivered over HTTP. Returns the completed session."""
    browser.submit(f"/requests/{reference}/review/", button="Send my request")
    assert "Your request was sent" in browser.text(), browser.text()[:1500]
    browser.submit(form="/pay/")
    assert browser.last.status_code == 302
    assert browser.last.headers["Location"].startswith("https://checkout.stripe.com/")
    event = checkout_completed(stack, browser.last.headers["Location"], http=browser.http)
    answer = deliver(stack, event)
    assert answer.status_code == 200, answer.text
    return event["data"]["object"]


def stripe_event(kind: str, obj: dict, event_id: str) -> dict:
    """An event of ``kind`` about ``obj``, as Stripe sends it."""
    return {
        "id": event_id,
        "object": "event",
        "type": kind,
        "api_version": "2025-01-27",
        "created": int(time.time()),
        "data": {"object": obj},
    }


def checkout_completed(stack, location: str, *, http=None, tag: str = "") -> dict:
    """Pay the Checkout Session ``location`` leads to on "Stripe's page" (the stand-in), and
    the ``checkout.session.completed`` event Stripe then sends (its id ends in ``tag``)."""
    import requests

    session_id = location.rsplit("/", 1)[1]
    answer = (http or requests).post(f"{stack.stripe_url}/_stack/complete/{session_id}", timeout=10)
    return stripe_event(
        "checkout.session.completed", json.loads(answer.text), f"evt_{session_id}{tag}"
    )


def deliver(stack, event, *, secret=STRIPE_WEBHOOK_SECRET, body=None, http=None):
    """POST an event to the webhook over HTTP as Stripe does, signed with Stripe's helper."""
    import requests

    raw = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(raw, secret)
    return (http or requests).post(
        f"{stack.url}/billing/stripe/webhook/",
        data=body if body is not None else raw,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        timeout=60,
    )


# The lead signs the panel tests' letter under the demo lead's name.
FINAL = {**PANEL_FINAL, "signed_name": "Dr. Ana Lopez"}


def staff(stack, key) -> Browser:
    person = stack.seed["staff"][key]
    browser = Browser(stack.url)
    browser.sign_in(person["email"], "correct horse battery staple", person["key"])
    return browser


def review_and_deliver(stack, reference, request_id):
    coordinator = staff(stack, "coordinator")
    coordinator.submit(
        "/admin/intake/reviewrequest/",
        data={"action": "start_review", "_selected_action": str(request_id), "index": "0"},
        form="#changelist-form",
    )
    ids = [stack.seed["staff"][k]["id"] for k in ("lead", "reviewer2", "reviewer3")]
    coordinator.submit(
        f"/admin/reviews/reviewassignment/panel/{request_id}/",
        data={"reviewers": [str(i) for i in ids], "lead": str(ids[0])},
    )
    assert coordinator.last.status_code == 200, coordinator.text()[:1500]
    for key in ("reviewer2", "reviewer3", "lead"):
        reviewer = staff(stack, key)
        reviewer.submit(f"/reviews/cases/{reference}/opinion/", data=OPINION, button="Submit")
        assert reviewer.last.status_code == 200, reviewer.text()[:1500]
    reviewer.submit(
        f"/reviews/cases/{reference}/final/", data=FINAL, button="Sign the final opinion"
    )
    assert reviewer.last.status_code == 200, reviewer.text()[:1500]
    coordinator.submit(
        f"/admin/reviews/finalopinion/deliver/{request_id}/",
        data={
            "outreach_method": "call",
            "outreach_note": "Spoke with the mother.",
            "pediatrician_channel": "",
        },
    )
    assert coordinator.last.status_code == 200, coordinator.text()[:1500]


def objects_match_rows(stack) -> list[str]:
    """Every document and preview row's object read back from S3 and hashed: the keys whose
    object is missing or differs."""
    client = stack.s3_client()
    rows = stack.sql(
        "SELECT storage_key, sha256 FROM records_document "
        "UNION ALL SELECT storage_key, sha256 FROM records_preview"
    )
    wrong = []
    for key, sha256 in rows:
        try:
            body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
        except client.exceptions.NoSuchKey:
            wrong.append(key)
            continue
        digest = hashlib.sha256()
        while chunk := body.read(1 << 20):
            digest.update(chunk)
        if digest.hexdigest() != sha256:
            wrong.append(key)
    return wrong


def test_a_family_is_served_from_sign_up_to_the_delivered_opinion(stack, visitor):
    email = "jordan.rivera@example.org"
    sign_up(stack, visitor, email)
    book_a_call(visitor, email)
    visitor.sign_in(email, PASSWORD)
    reference = start_request(visitor, stack.seed["service"])
    fill_wizard(visitor, reference)
    for kind, name, content in (
        ("referral", "referral letter.pdf", files.referral_pdf()),
        ("record", "clinic notes.pdf", files.referral_pdf()),
        ("imaging", "spine-ct.zip", files.study_zip(50)),
    ):
        assert upload(visitor, reference, kind, name, content).status_code == 201
    send_and_pay(stack, visitor, reference)
    [(request_id, status)] = stack.sql(
        "SELECT id, status FROM intake_reviewrequest WHERE reference = %s", (reference,)
    )
    assert status == "submitted"
    wait_for(
        "the study's previews",
        lambda: (
            stack.sql(
                "SELECT count(*) FROM records_document WHERE request_id = %s AND state <> 'ready' "
                "AND kind = 'imaging'",
                (request_id,),
            )[0][0]
            == 0
        ),
    )

    review_and_deliver(stack, reference, request_id)

    assert stack.sql("SELECT status FROM intake_reviewrequest WHERE id = %s", (request_id,)) == [
        ("delivered",)
    ]
    subjects = wait_for(
        "the family's e-mails",
        lambda: (
            (found := [m["subject"] for m in mails_to(stack, email)]) and len(found) >= 5 and found
        ),
    )
    assert any("booked" in s for s in subjects)  # the call's confirmation
    parent_mails = mails_to(stack, email)
    # Confirmation (sent), receipt (paid), confirmed, delivered: each "sign in to see".
    assert len([m for m in parent_mails if reference in m["subject"]]) >= 3
    for mail in parent_mails:
        for secret in (*CHILD, DIAGNOSIS, "scoliosis", "Savannah Clinic"):
            assert secret.lower() not in mail["body"].lower(), (mail["subject"], secret)
    assert (
        stack.sql(
            "SELECT count(*) FROM records_preview p JOIN records_document d "
            "ON d.id = p.document_id WHERE d.request_id = %s",
            (request_id,),
        )[0][0]
        >= 1
    )
    assert objects_match_rows(stack) == []


def test_the_restore_drill_finds_every_object_and_reports_one_gone(stack, visitor):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": stack.s3_url,
        "S3_ACCESS_KEY_ID": "portal",
        "S3_SECRET_ACCESS_KEY": "portal-stack-secret",
    }

    def drill():
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "ops.restore_drill", "--database-url", stack.db_url],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, json.loads(done.stdout)

    status, report = drill()
    assert (status, report["missing"], report["different"]) == (0, [], [])
    assert report["checked"] == report["rows"] > 0
    [(key,)] = stack.sql("SELECT storage_key FROM records_document LIMIT 1")
    body = stack.s3_client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    stack.s3_client().put_object(Bucket=BUCKET, Key=key, Body=body + b"changed")
    try:
        status, report = drill()
    finally:
        stack.s3_client().put_object(Bucket=BUCKET, Key=key, Body=body)
    assert status == 1
    assert report["different"] == [f"records_document {key}"]


def test_gunicorns_access_log_names_paths_and_never_a_query_string(stack, visitor):
    """An admin search by a family's e-mail address is a query string: it stays out of logs."""
    log = stack.procs["web"].log
    before = log.read_text(errors="replace")

    visitor.get("/admin/intake/reviewrequest/?q=hidden.family%40example.org")
    logged = ""
    for _ in range(50):  # gunicorn writes the line once the answer is sent
        logged = log.read_text(errors="replace")[len(before) :]
        if "/admin/intake/reviewrequest/" in logged:
            break
        time.sleep(0.1)

    assert '"GET /admin/intake/reviewrequest/ HTTP/1.1" 302' in logged
    assert "hidden.family" not in logged
    assert "q=" not in logged
