"""A small HTTP client for the stack tests: a cookie jar, and the forms of a page filled in
the way a browser sends them (defaults, hidden fields, the CSRF token)."""

import re
import time
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin

import requests
from django_otp.oath import totp
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar


class LoopbackPolicy(DefaultCookiePolicy):
    """gunicorn serves plain HTTP on loopback; the TLS proxy that would stand in front is
    left out. The cookies stay Secure (production settings): keep them anyway."""

    def return_ok_secure(self, cookie, request):
        return True

    def set_ok(self, cookie, request):
        return True


class Form:
    def __init__(self, action, method, attrs):
        self.action, self.method, self.attrs = action, method, attrs
        self.fields: list[tuple[str, str]] = []
        self.names: set[str] = set()
        self.buttons: list[tuple[str, str, str]] = []  # name, value, text


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""
        self.button: tuple[str, str] | None = None
        self.option_value: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.form = Form(a.get("action", ""), a.get("method", "get").lower(), a)
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            self.form.names.add(name)
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.form.fields.append((name, a.get("value", "on")))
            elif kind == "submit":
                self.form.buttons.append((name, a.get("value", ""), a.get("value", "")))
            elif kind != "file":
                self.form.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.form.names.add(name)
            self.select, self.options = name, []
        elif tag == "option" and self.select:
            self.option_value = a.get("value")
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self.form.names.add(name)
            self.textarea, self.text = name, ""
        elif tag == "button":
            self.button = (a.get("name", ""), a.get("value", ""))
            self.text = ""

    def handle_data(self, data):
        if self.textarea is not None or self.button is not None:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.select and self.form is not None:
            chosen = [v for v, selected in self.options if selected] or [
                v for v, _ in self.options[:1]
            ]
            for value in chosen:
                self.form.fields.append((self.select, value))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.form is not None:
            self.form.fields.append((self.textarea, self.text.lstrip("\n")))
            self.textarea = None
        elif tag == "button" and self.button is not None and self.form is not None:
            self.form.buttons.append((*self.button, " ".join(self.text.split())))
            self.button = None


class Browser:
    """requests copies the session's cookies into a jar of the default policy for every
    request (and drops Secure ones over http), so the cookies are kept and sent here."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.jar = RequestsCookieJar(policy=LoopbackPolicy())
        self.last: requests.Response | None = None

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path)

    def request(self, method: str, url: str, *, headers=None, **kwargs) -> requests.Response:
        url = self.url(url)
        for _ in range(10):
            cookies = "; ".join(f"{c.name}={c.value}" for c in self.jar)
            sent = {"Accept-Language": "en", **(headers or {})}
            if cookies:
                sent["Cookie"] = cookies
            self.http.cookies.clear()
            answer = self.http.request(
                method, url, headers=sent, allow_redirects=False, timeout=300, **kwargs
            )
            extract_cookies_to_jar(self.jar, answer.request, answer.raw)
            if answer.status_code not in {301, 302, 303, 307, 308}:
                break
            url = urljoin(url, answer.headers["Location"])
            if not url.startswith(self.base):
                break  # off to another site (Stripe's page): not followed
            if answer.status_code in {301, 302, 303}:
                method, kwargs = "GET", {}
        self.last = answer
        return answer

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def forms(self, response=None) -> list[Form]:
        parser = FormParser()
        parser.feed((response or self.last).text)
        return parser.forms

    def submit(
        self,
        path: str | None = None,
        *,
        data: dict | None = None,
        form: str | int | None = None,
        button: str | None = None,
        files=None,
        headers=None,
    ) -> requests.Response:
        """Fill a form of the page at ``path`` (or of the last page) and send it: ``form``
        picks one by a piece of its action or its index (else the last form with a
        non-empty csrf token and a field in ``data``); ``data`` overrides its fields; a list
        value sends the name several times; ``button`` the text of the button pressed."""
        page = self.get(path) if path else self.last
        assert page.status_code == 200, (page.status_code, page.url)
        forms = self.forms(page)
        data = data or {}
        if isinstance(form, int):
            chosen = forms[form]
        elif isinstance(form, str) and form.startswith("#"):
            chosen = next(f for f in forms if f.attrs.get("id") == form[1:])
        elif isinstance(form, str):
            chosen = next(f for f in forms if form in f.action)
        else:
            chosen = [f for f in forms if f.method == "post" and set(data) <= f.names][-1]
        fields = [(k, v) for k, v in chosen.fields if k not in data]
        for key, value in data.items():
            for item in value if isinstance(value, list) else [value]:
                fields.append((key, item))
        if button:
            name, value, _ = next(b for b in chosen.buttons if button in b[2])
            if name:
                fields.append((name, value))
        action = urljoin(page.url, chosen.action or page.url)
        return self.request(
            chosen.method.upper(),
            action,
            data=fields if chosen.method == "post" else None,
            params=fields if chosen.method == "get" else None,
            files=files,
            headers=headers,
        )

    def sign_in(self, email: str, password: str, totp_key: str | None = None) -> None:
        self.submit("/accounts/sign-in/", data={"username": email, "password": password})
        assert self.last.status_code == 200, self.last.status_code
        if totp_key:
            assert "/accounts/two-factor" in self.last.url, self.last.url
            for _ in range(2):
                code = f"{totp(bytes.fromhex(totp_key)):06d}"
                self.submit(data={"token": code})
                if "/two-factor" not in self.last.url:
                    return
                # A code is used once: wait for the app's next one, as a person would.
                time.sleep(30.5 - time.time() % 30)
            raise AssertionError(self.text()[:2000])

    def text(self) -> str:
        """The last page's visible text, whitespace collapsed."""
        body = re.sub(r"<(script|style)\b.*?</\1>", " ", self.last.text, flags=re.S)
        return " ".join(re.sub(r"<[^>]+>", " ", body).split())
