"""The enrolment QR code, drawn as inline SVG on the server (no script, no third party)."""

from base64 import b32encode

import segno
from django.utils.safestring import SafeString, mark_safe
from django_otp.plugins.otp_totp.models import TOTPDevice


def qr_code_svg(otpauth_url: str) -> SafeString:
    code = segno.make(otpauth_url, error="m")
    # segno writes the markup itself from the URL's bits: there is no user text in it.
    return mark_safe(code.svg_inline(scale=5, title="QR code for your authenticator app"))  # noqa: S308


def spaced_secret(device: TOTPDevice) -> str:
    """The secret for typing into an app by hand, in groups of four."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
