"""A browser page signed in as someone, through a session made by Django's test client."""

from django.conf import settings
from django.test import Client


def share_session(page, live_server, client: Client) -> None:
    """The browser carries ``client``'s session cookie: it is signed in as the same person,
    in the same session."""
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def signed_in(page, live_server, user) -> Client:
    """The browser signed in as ``user``; the returned client shares that session."""
    client = Client()
    client.force_login(user)
    share_session(page, live_server, client)
    return client
