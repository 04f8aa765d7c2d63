"""Small helpers shared by tests."""

import re
from html.parser import HTMLParser

from django_otp.oath import TOTP

from notifications.models import Message


def link_in(message: Message, containing: str = "") -> str:
    """The path of the one portal link in an outbox message (that contains ``containing``)."""
    urls = [
        url for url in re.findall(r"http://testserver(/\S+)", message.body) if containing in url
    ]
    assert len(urls) == 1, message.body
    return urls[0]


def totp_code(device, *, offset_steps: int = 0) -> str:
    """The code the phone shows now (or ``offset_steps`` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


class ScriptAudit(HTMLParser):
    """Finds what a strict CSP would block: inline scripts and event-handler attributes."""

    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.handlers = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.inline_scripts += 1
        self.handlers += [name for name in names if name.startswith("on")]
