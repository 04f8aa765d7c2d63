"""Reading settings from the environment.

Every knob has a name, a type and a default. A value that cannot be read stops start-up with a
message naming the variable, instead of quietly falling back (django-environ's own ``bool``
reads any unknown word as False; these readers refuse it).
"""

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

_env = environ.Env()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_REQUIRED = object()


def read_env_file(path: Path) -> None:
    """Load a developer's ``.env`` file; variables already set in the environment win."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


def _raw(name: str, default: Any) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is _REQUIRED:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return None
    return value.strip()


def string(name: str, default: Any = _REQUIRED) -> str:
    value = _raw(name, default)
    return default if value is None else value


def boolean(name: str, default: bool) -> bool:
    value = _raw(name, default)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def integer(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def strings(name: str, default: list[str]) -> list[str]:
    """A comma-separated list."""
    value = _raw(name, default)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = string(name, default)
    if value not in choices:
        allowed = ", ".join(choices)
        raise ImproperlyConfigured(f"{name} must be one of {allowed}, not {value!r}.")
    return value


def database(name: str, default: Any = _REQUIRED) -> dict:
    value = string(name, default)
    try:
        config = _env.db_url_config(value)
    except (ValueError, ImproperlyConfigured, KeyError):
        config = {}
    if not config.get("ENGINE", "").startswith("django.db.backends."):
        raise ImproperlyConfigured(
            f"{name} is not a database URL this portal can use (postgres://… or sqlite:///…)."
        )
    return config


def email(name: str, default: str) -> dict:
    value = string(name, default)
    try:
        return _env.email_url_config(value)
    except (ValueError, ImproperlyConfigured, KeyError):
        raise ImproperlyConfigured(f"{name} is not an e-mail URL this portal can use.") from None
