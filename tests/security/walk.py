"""The hostile walk: every field of every form a page shows, every query parameter it reads
and every id in its address, filled with what a careless or malicious client sends.

``walk(client, url, probe)`` sends the requests and returns what answered 500 or more (with
the exception's class and message), and how many requests it sent.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

from django.urls import resolve

from tests.security.conftest import finished

MEGABYTE = "x" * (1024 * 1024)
FORM_ENCODED = "application/x-www-form-urlencoded"

# Sent in every field at once (and as every query parameter).
HOSTILE = (
    "",
    "a\x00b",
    "2026-02-30",
    "0000-01-01",
    "99999-12-31T25:61Z",
    "-1",
    "99999999999999999999999999999999",
    "1e400",
    "NaN",
    "not-a-choice",
    "é\u202e" * 300,
    "\r\nSet-Cookie: x=1",
    "//evil.example",
)
# Sent one field at a time (every other field keeps the value the page showed).
ONE_AT_A_TIME = ("a\x00b", MEGABYTE)
# Put in place of each id, reference or token of the address.
PATH_VALUES = (
    "0",
    "-1",
    "99999999999999999999999",
    "abc",
    "%00",
    "a%00b",
    "%ED%A0%80",  # a lone surrogate, percent-encoded
    "%FF%FE",  # not UTF-8
    "..%2F..",
    "x" * 2000,
    "SO-0000-0000",
    "00000000-0000-0000-0000-000000000000",
)
# Raw request bodies that are not what a form view expects.
RAW_BODIES = (
    ("application/x-www-form-urlencoded", b"a=%ff%fe&b=\xff\xfe&c=%ED%A0%80&d=%00"),
    ("application/x-www-form-urlencoded", b"\xff\xfe\x00\x01"),
    ("application/json", b'{"a": "\\u0000", "b": [1, 2], "c": {"d": null}}'),
    ("application/json", b"[not json"),
    ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n\r\n"),
    ("multipart/form-data", b"no boundary"),
    ("text/plain", b"\x00" * 64),
)
# Query strings sent raw (not through urlencode).
RAW_QUERIES = (
    "next=%00&q=%00&o=%00&p=%00",
    "%ff%fe=%ff%fe",
    "a=%ED%A0%80",
    "q=" + "%00" * 10,
    "p=-1&o=999&all=&e=1&_to_field=password&_popup=1",
    "o=-1.2.3&p=99999999999999999999",
)
# Host headers of no site of ours (and none at all).
HOSTS = ("", "evil.example", "a\x00b", "[::1", "x" * 300, "testserver:99999999")
# Query parameters pages read beyond their forms' fields.
QUERY_PARAMETERS = (
    "next",
    "tz",
    "start",
    "department",
    "download",
    "q",
    "o",
    "p",
    "request",
    "term",
    "app_label",
    "model_name",
    "field_name",
    "_changelist_filters",
)


@dataclass
class Form:
    action: str
    method: str
    # What a browser would send untouched (name -> values: ticked boxes, chosen options, the
    # text in each box), and every name the form has.
    fields: dict = field(default_factory=dict)
    names: set = field(default_factory=set)


class Forms(HTMLParser):
    """The forms of a page, their fields and what the page filled in."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._select = None  # (name, whether an option was chosen)
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(Form(attrs.get("action") or "", attrs.get("method") or "get"))
        elif tag == "option" and self._select and self.forms:
            self._option(attrs)
        elif self.forms and attrs.get("name"):
            self._field(tag, attrs["name"], attrs)

    def _field(self, tag, name, attrs):
        form = self.forms[-1]
        if tag == "input" and attrs.get("type") == "file":
            return
        form.names.add(name)
        if tag == "input" and attrs.get("type") in ("checkbox", "radio"):
            if "checked" in attrs:
                form.fields.setdefault(name, []).append(attrs.get("value", "on"))
        elif tag == "input" and attrs.get("type") not in ("submit", "button", "image"):
            form.fields[name] = [attrs.get("value", "")]
        elif tag == "textarea":
            form.fields[name] = [""]
            self._textarea = name
        elif tag == "select":
            self._select = [name, attrs.get("multiple") is not None]

    def _option(self, attrs):
        name, chosen = self._select
        fields = self.forms[-1].fields
        value = attrs.get("value", "")
        if "selected" in attrs:
            fields[name] = [*fields.get(name, []), value] if chosen else [value]
            self._select[1] = True
        elif name not in fields:  # the first option, until one is chosen
            fields[name] = [value]

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def page_forms(html: str, url: str) -> list[Form]:
    """The page's own form (the fields of all its forms that post back to it); forms that post
    elsewhere (signing out, say) are walked on their own pages."""
    parser = Forms()
    parser.feed(html)
    own = Form(url, "post")
    for form in parser.forms:
        if form.method.lower() == "post" and form.action in ("", url, urlsplit(url).path):
            own.fields = {**form.fields, **own.fields}
            own.names |= form.names
    own.fields.pop("csrfmiddlewaretoken", None)
    own.names.discard("csrfmiddlewaretoken")
    return [own]


@dataclass
class Walk:
    sent: int = 0
    failures: list = field(default_factory=list)

    def send(self, client, method, url, what, **kwargs):
        self.sent += 1
        try:
            response = getattr(client, method)(url, **kwargs)
        except Exception as error:  # the client re-raised what the view raised
            self.failures.append(
                (method.upper(), url[:120], what, f"{type(error).__name__}: {str(error)[:200]}")
            )
            return None
        finished(response)
        if response.status_code >= 500:
            error = (getattr(response, "exc_info", None) or (None, None))[1]
            reason = f"{type(error).__name__}: {str(error)[:200]}" if error else ""
            self.failures.append((method.upper(), url[:120], what, response.status_code, reason))
        return response


def _path_variants(url: str):
    """The address with each of its path arguments replaced by each hostile value."""
    path, _, query = url.partition("?")
    match = resolve(path)
    for name, value in match.kwargs.items():
        text = str(value)
        if not text or text not in path:
            continue
        for hostile in PATH_VALUES:
            yield name, path.replace(text, hostile, 1) + (f"?{query}" if query else "")


def walk(client, url: str, methods, *, fields=()) -> Walk:
    """Send the hostile requests to ``url``; ``fields`` adds form fields the page does not
    show (POST-only pages have no page to read them from)."""
    result = Walk()
    forms = []
    if "GET" in methods:
        response = result.send(client, "get", url, "the page")
        if response is not None and "html" in response.get("Content-Type", ""):
            forms = page_forms(response.content.decode(errors="replace"), url)
    form = forms[0] if forms else Form(url, "post")
    form.names |= set(fields)
    _queries(client, result, url, form)
    if "POST" in methods:
        _posts(client, result, form)
        _raw(client, result, url)
    for host in HOSTS:
        for method in methods:
            result.send(client, method.lower(), url, f"Host {host[:10]!r}", HTTP_HOST=host)
    for name, variant in _path_variants(url):
        result.send(client, "get", variant, f"path {name}")
        if "POST" in methods:
            result.send(client, "post", variant, f"path {name}")
    return result


def _queries(client, result, url, form):
    path = urlsplit(url).path
    names = {*QUERY_PARAMETERS, *form.names}
    for value in HOSTILE:
        result.send(client, "get", path, f"query {value[:20]!r}", data=dict.fromkeys(names, value))
    twice = {name: ["1", "2"] for name in names}
    result.send(client, "get", path, "every query parameter twice", data=twice)
    for raw in RAW_QUERIES:
        result.send(client, "get", path, f"raw query {raw[:20]}", QUERY_STRING=raw)
    result.send(client, "get", path, "query 1 MB", data={"q": MEGABYTE, "next": MEGABYTE})


def _post(client, result, url, what, data):
    # Form-encoded, as browsers post forms without files (and much faster than multipart).
    body = urlencode(data, doseq=True)
    result.send(client, "post", url, what, data=body, content_type=FORM_ENCODED)


def _posts(client, result, form):
    for value in HOSTILE:
        data = dict.fromkeys(form.names, value)
        _post(client, result, form.action, f"all fields {value[:20]!r}", data)
    for name in sorted(form.names):
        for value in ONE_AT_A_TIME:
            data = {**form.fields, name: value}
            _post(client, result, form.action, f"field {name} = {value[:5]!r}", data)
        twice = {**form.fields, name: [*form.fields.get(name, ["1"])[:1], "2"]}
        _post(client, result, form.action, f"field {name} twice", twice)


def _raw(client, result, url):
    for content_type, body in RAW_BODIES:
        result.send(
            client, "post", url, f"body {content_type}", data=body, content_type=content_type
        )
    # A length far beyond the body (and beyond any limit).
    result.send(
        client,
        "post",
        url,
        "huge Content-Length",
        data=b"a=1",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="99999999999",
    )
    result.send(
        client,
        "post",
        url,
        "garbage Content-Length",
        data=b"a=1",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH="-5x",
    )
