"""A local stand-in for api.stripe.com, for Stripe's own library to talk to over HTTP.

It records every request (method, path, parameters, idempotency key) and answers with JSON
shaped like Stripe's for the calls the portal makes: creating and listing Checkout Sessions,
reading a PaymentIntent, creating a refund. A repeated idempotency key gets the first answer
again, as Stripe does. Tests "pay" a session with ``complete``.
"""

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

# The webhook secret the tests' settings name while the stand-in is configured.
WEBHOOK_SECRET = "whsec_test_portal"


def nest(pairs) -> dict:
    """Stripe's form encoding (``line_items[0][price_data][unit_amount]=500``) as a dict."""
    root: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


class StripeStandIn:
    def __init__(self, port: int = 0):
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.intents: dict[str, dict] = {}
        self.answers_by_key: dict[str, tuple[int, dict]] = {}
        self.fail_next: list[str] = []  # paths whose next call answers 500
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self):
        with self.lock:
            self.requests.clear()
            self.sessions.clear()
            self.intents.clear()
            self.answers_by_key.clear()
            self.fail_next.clear()

    def stop(self):
        self.server.shutdown()

    # --- what the tests do -------------------------------------------------------------

    def created_sessions(self) -> list[dict]:
        return [
            r
            for r in self.requests
            if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"
        ]

    def complete(self, session_id: str, *, amount_total=None, currency=None, paid=True) -> dict:
        """The family paid on Stripe's page: the session completes with a PaymentIntent."""
        session = self.sessions[session_id]
        intent_id = f"pi_test_{next(self.counter)}"
        self.intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "metadata": dict(session["metadata"]),
            "amount": amount_total if amount_total is not None else session["amount_total"],
            "refunded": 0,
        }
        session.update(
            status="complete", payment_status="paid" if paid else "unpaid", payment_intent=intent_id
        )
        if amount_total is not None:
            session["amount_total"] = amount_total
        if currency is not None:
            session["currency"] = currency
        return dict(session)

    # --- the HTTP side -------------------------------------------------------------------

    def _answer(self, method, path, params) -> tuple[int, dict]:
        if path in self.fail_next:
            self.fail_next.remove(path)
            return 500, {"error": {"type": "api_error", "message": "Stand-in failure."}}
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params)
        if method == "GET" and path == "/v1/checkout/sessions":
            since = int(params.get("created", {}).get("gte", 0))
            data = [s for s in self.sessions.values() if s["created"] >= since]
            return 200, {"object": "list", "url": path, "has_more": False, "data": data}
        if (
            method == "POST"
            and path.startswith("/v1/checkout/sessions/")
            and path.endswith("/expire")
        ):
            session = self.sessions[path.split("/")[-2]]
            if session["status"] != "open":
                return 400, {"error": {"type": "invalid_request_error", "message": "Not open."}}
            session["status"] = "expired"
            return 200, session
        if method == "GET" and path.startswith("/v1/checkout/sessions/"):
            return 200, self.sessions[path.rsplit("/", 1)[1]]
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            return 200, self.intents[path.rsplit("/", 1)[1]]
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        return 404, {
            "error": {"type": "invalid_request_error", "message": f"No stand-in for {path}"}
        }

    def _refund(self, params) -> tuple[int, dict]:
        """As Stripe: never more than what is left on the charge."""
        intent = self.intents.get(params.get("payment_intent") or "")
        amount = int(params["amount"])
        if intent is None or amount > intent["amount"] - intent["refunded"]:
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "message": "Refund amount is greater than what is left on the charge.",
                }
            }
        intent["refunded"] += amount
        return 200, {
            "id": f"re_test_{next(self.counter)}",
            "object": "refund",
            "status": "succeeded",
            "amount": amount,
            "payment_intent": intent["id"],
        }

    def _create_session(self, params) -> dict:
        number = next(self.counter)
        item = params["line_items"]["0"]["price_data"]
        session = {
            "id": f"cs_test_{number}",
            "object": "checkout.session",
            "mode": params["mode"],
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{number}",
            "amount_total": int(item["unit_amount"]),
            "currency": item["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata", {}),
            "payment_status": "unpaid",
            "status": "open",
            "payment_intent": None,
            "created": int(time.time()),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
        }
        self.sessions[session["id"]] = session
        return session

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method):
                url = urlparse(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = nest(
                    parse_qsl(body if method == "POST" else url.query, keep_blank_values=True)
                )
                key = self.headers.get("Idempotency-Key")
                with standin.lock:
                    standin.requests.append(
                        {
                            "method": method,
                            "path": url.path,
                            "params": params,
                            "idempotency_key": key,
                            "authorization": self.headers.get("Authorization"),
                        }
                    )
                    if key and key in standin.answers_by_key:
                        status, answer = standin.answers_by_key[key]
                    else:
                        status, answer = standin._answer(method, url.path, params)
                        if key and method == "POST" and status == 200:
                            standin.answers_by_key[key] = (status, answer)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def log_message(self, *args):
                pass

        return Handler
