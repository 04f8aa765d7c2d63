"""A family's whole document review over HTTP against the running stack, from sign-up to the
delivered opinion, with the e-mails in the SMTP catcher and the objects in S3 checked."""

import re
import time

PASSWORD = "a long family passphrase 42"
CHILD = ("Maya", "Rivera")
DIAGNOSIS = "Adolescent idiopathic scoliosis"


def wait_for(what, test, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := test():
            return result
        time.sleep(0.5)
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
