from django.test import RequestFactory

from accounts.request_info import client_ip


def request_from(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_a_proxy_the_connection_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from("203.0.113.7", "1.2.3.4")) == "203.0.113.7"


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    # The client sent a made-up "1.2.3.4"; the proxy appended the real address.
    assert client_ip(request_from("10.0.0.2", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_outer_proxys_entry_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(request_from("10.0.0.3", "1.2.3.4, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"


def test_a_missing_header_behind_a_proxy_falls_back_to_the_connection(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from("10.0.0.2")) == "10.0.0.2"
