"""Small servers the local stack runs as processes, each a stand-in for a part of
production: ``python -m ops.standins gate|smtp|stripe ...`` (``ops.stack`` starts them).

- ``gate``: a TCP gate in front of moto's S3 server, so the store can be taken down and
  brought back without losing its objects;
- ``smtp``: an SMTP catcher (aiosmtpd) that keeps each message as a file;
- ``stripe``: the tests' stand-in for Stripe's API.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A recipient whose messages the SMTP catcher holds for a while before taking them: the
# stack tests kill a worker while it waits.
SLOW_MARK = "+slow"


def serve_gate(listen: int, target: int) -> None:
    """Forward TCP from ``listen`` to ``target``: the S3 endpoint. Stopping this process takes
    the endpoint down (connections refused) while moto keeps its objects."""

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_reader, client_writer):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, writer), pipe(reader, client_writer))

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", listen)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def serve_smtp(port: int, folder: str) -> None:
    """An SMTP catcher: every message accepted is written to ``folder`` as a .eml file."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class Catcher:
        count = 0

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if SLOW_MARK in address:
                await asyncio.sleep(6)  # a slow server: the tests kill a sender meanwhile
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            Catcher.count += 1
            name = f"{time.time_ns()}-{Catcher.count:06d}.eml"
            with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as out:
                out.write(envelope.original_content or envelope.content)
            os.replace(out.name, os.path.join(folder, name))  # whole files only
            return "250 Message accepted"

    controller = Controller(Catcher(), hostname="127.0.0.1", port=port)
    controller.start()
    assert isinstance(controller.smtpd, SMTP)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


def serve_stripe(port: int) -> None:
    """The tests' stand-in for Stripe's API, plus ``POST /_stack/complete/<session>``: the
    family paid on Stripe's page (answers the completed session, for the webhook's body)."""
    sys.path.insert(0, str(ROOT))
    from tests.billing.stripe_standin import StripeStandIn

    class StackStandIn(StripeStandIn):
        def _answer(self, method, path, params):
            if method == "POST" and path.startswith("/_stack/complete/"):
                return 200, self.complete(path.rsplit("/", 1)[1])
            return super()._answer(method, path, params)

    StackStandIn(port)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ops.standins", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gate = sub.add_parser("gate")
    gate.add_argument("listen", type=int)
    gate.add_argument("target", type=int)
    smtp = sub.add_parser("smtp")
    smtp.add_argument("port", type=int)
    smtp.add_argument("folder")
    stripe = sub.add_parser("stripe")
    stripe.add_argument("port", type=int)
    args = parser.parse_args(argv)

    if args.command == "gate":
        serve_gate(args.listen, args.target)
    elif args.command == "smtp":
        serve_smtp(args.port, args.folder)
    else:
        serve_stripe(args.port)


if __name__ == "__main__":
    main()
