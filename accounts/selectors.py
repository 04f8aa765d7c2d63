"""Reads of accounts."""

from accounts.models import User, normalize_email


def account_exists(*, email: str) -> bool:
    """Whether an account uses this address (only for someone holding a link sent there)."""
    return User.objects.filter(email=normalize_email(email)).exists()
