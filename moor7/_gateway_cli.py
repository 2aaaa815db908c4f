"""``moor7 gateway``: the fake 7moor gateway as a standalone server.

For docker-compose setups and services not written in Python, as stripe-mock serves
Stripe's users::

    moor7 gateway                                  # http://127.0.0.1:8077, the docs' data
    moor7 gateway --host 0.0.0.0 --port 8080       # in a container
    moor7 gateway --port 0 --data pool.json        # a free port; your own data
    moor7 gateway --quota 5/1.5 --fault server_error:2 --fault drop@/openapi/v1/call/online

Its first three lines, on stdout and flushed, are ``MOOR7_BASE_URL=...``,
``MOOR7_APPKEY=...`` and ``MOOR7_SECRET_KEY=...`` (the demo account), so that a script
can read where it listens; everything else goes to stderr: a line per call received.
It runs until SIGINT (Ctrl-C) or SIGTERM, and then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from typing import TYPE_CHECKING, Any

from .exceptions import ConfigurationError

if TYPE_CHECKING:
    from ._gateway import FakeGateway

__all__ = ["DEFAULT_PORT", "add_command", "run"]

#: The port ``moor7 gateway`` listens on unless told otherwise (``--port 0``: a free one).
DEFAULT_PORT = 8077

_DESCRIPTION = (
    "Run the fake 7moor gateway (moor7.testing.FakeGateway) as a server, for services "
    "not written in Python and docker-compose setups. It checks the m7-sign signature, "
    "keeps the quota, serves every V7 endpoint with the docs' example data (or --data) "
    "and plays --fault faults first. It prints MOOR7_BASE_URL, MOOR7_APPKEY and "
    "MOOR7_SECRET_KEY (the demo account) on stdout, then a line per call on stderr, and "
    "runs until SIGINT or SIGTERM."
)


def add_command(commands: Any) -> None:
    """Declare ``moor7 gateway`` on the ``moor7`` parser's subcommands."""
    parser = commands.add_parser(
        "gateway",
        help="run the fake gateway as a standalone server",
        description=_DESCRIPTION,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="the interface to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the port (default: {DEFAULT_PORT}; 0 picks a free one, printed)",
    )
    parser.add_argument(
        "--data",
        metavar="FILE",
        help=(
            "a JSON object of the data to serve instead of the docs' examples; its keys: "
            "number_pool, groups, sip_numbers, agents, queues, answer_rates, "
            "im_session_report (each optional)"
        ),
    )
    parser.add_argument(
        "--quota",
        metavar="N/PERIOD",
        default="20/60",
        help="calls per account in any rolling PERIOD seconds, or none (default: 20/60)",
    )
    parser.add_argument(
        "--fault",
        metavar="NAME[:TIMES][@PATH]",
        action="append",
        default=[],
        help=(
            "fail the next TIMES (default 1) authenticated requests (to PATH only, if "
            "given) with NAME: server_error, bad_gateway_html, malformed_json, "
            "not_envelope, empty_body, slow, drop, rate_limit, auth_reject; repeatable, "
            "played in order"
        ),
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no line per call on stderr")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return the exit status.

    Raises:
        ConfigurationError: A flag's value is wrong (the caller prints it, exit 2).
    """
    # Imported here: aiohttp.web is only needed by this command (and the sandbox).
    from ._gateway._server import client_host
    from ._gateway._standalone import FaultPlan, StandaloneGateway, load_data, parse_quota, serve
    from ._samples import DEMO_APPKEY, DEMO_SECRET_KEY

    if not 0 <= args.port <= 65535:
        msg = f"--port must be from 0 to 65535, got {args.port}"
        raise ConfigurationError(msg)
    quota, period = parse_quota(args.quota)
    faults = [FaultPlan.parse(text) for text in args.fault]
    data = load_data(args.data) if args.data else {}
    try:
        gateway = StandaloneGateway(
            log=None if args.quiet else sys.stderr,
            host=args.host,
            port=args.port,
            quota=quota,
            quota_period=period,
            **data,
        )
    except (TypeError, ValueError) as exc:
        msg = f"--data {args.data}: {exc}"
        raise ConfigurationError(msg) from exc
    for plan in faults:
        gateway.fail_next(plan.fault, times=plan.times, path=plan.path)

    def started(gateway: FakeGateway) -> None:
        # First, and flushed: a script reads these lines to learn where to call.
        sys.stdout.write(
            f"MOOR7_BASE_URL={gateway.url}\n"
            f"MOOR7_APPKEY={DEMO_APPKEY}\n"
            f"MOOR7_SECRET_KEY={DEMO_SECRET_KEY}\n"
        )
        sys.stdout.flush()
        limit = "no quota" if quota is None else f"quota {quota} calls per {period:g} s"
        planned = f"; faults first: {', '.join(map(str, faults))}" if faults else ""
        sys.stderr.write(
            f"moor7 gateway: the fake 7moor gateway on {gateway.url}, demo account "
            f"{DEMO_APPKEY}, {limit}{planned}. Ctrl-C or SIGTERM stops it.\n"
        )
        if client_host(args.host) != args.host:
            # MOOR7_BASE_URL is this machine's loopback; say how others reach it.
            port = gateway.url.rpartition(":")[2]
            sys.stderr.write(
                f"moor7 gateway: listening on every interface ({args.host}); from "
                f"another machine or container use its name or address, e.g. "
                f"http://{socket.gethostname()}:{port} (in docker-compose, the service's "
                "name)\n"
            )
        sys.stderr.flush()

    try:
        asyncio.run(serve(gateway, started=started))
    except OSError as exc:  # the port is taken, the host is not this machine's
        sys.stderr.write(f"moor7: error: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 1
    except KeyboardInterrupt:  # pragma: no cover - where signal handlers are unavailable
        pass
    sys.stderr.write("moor7 gateway: stopped\n")
    return 0
