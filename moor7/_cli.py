"""The ``moor7`` command: look at an account from a shell, or call any endpoint.

::

    moor7 --sandbox numbers          # against an embedded fake gateway, no account needed
    moor7 numbers --json             # credentials from MOOR7_APPKEY / MOOR7_SECRET_KEY
    moor7 groups --appkey 2000103    # the secret still from MOOR7_SECRET_KEY
    moor7 agents | sip | queues      # agents (every page), SIP registrations, skill groups
    moor7 call /openapi/v1/call/query/agent '{"agentNumber": "2000"}' --kind query
    moor7 gateway --port 0           # the fake gateway as a server (see _gateway_cli.py)

The table and ``--json`` show the same values (an enum as its member's lower-case name);
``call`` shows the data as the gateway sent it. Every command prints the request id of
each call it made (on stderr with ``--json``, so that stdout stays one JSON document,
and when a call failed).

Exit status: 0 on success, 1 when the call failed, 2 for bad usage or configuration.
"""

from __future__ import annotations

import argparse
import enum
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import attrs

from ._client import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._endpoints import USE_CLIENT_DEFAULT, kind_for
from ._envelope import Envelope
from ._gateway_cli import add_command as add_gateway_command
from ._gateway_cli import run as run_gateway
from ._limits import Unlimited
from ._models import (
    AgentPage,
    AgentQueue,
    NumberGroup,
    NumberGroups,
    NumberPool,
    PhoneNumber,
    Queues,
    SipNumber,
    SipRegistrations,
)
from ._quota_cli import add_quota_command, run_quota
from ._reprs import masked, tolerant_repr
from ._sync import Client
from ._version import version
from .exceptions import ConfigurationError, Moor7Error

__all__ = ["main"]


def _options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # The options are accepted before and after the command ("moor7 --json numbers" and
    # "moor7 numbers --json"); after it, an option left out must not reset one given
    # before, hence SUPPRESS there.
    default = None if top else argparse.SUPPRESS

    def option(*names: str, **kwargs: Any) -> None:
        # A flag before the command defaults to False (store_true's own default).
        if kwargs.get("action") != "store_true" or not top:
            kwargs["default"] = default
        parser.add_argument(*names, **kwargs)

    option(
        "--sandbox",
        action="store_true",
        help="run against an embedded fake gateway with demo credentials and data",
    )
    option("--appkey", help="the account id (default: $MOOR7_APPKEY)")
    option("--secret-key", help="the secret key (default: $MOOR7_SECRET_KEY)")
    option("--base-url", help=f"the gateway (default: $MOOR7_BASE_URL or {DEFAULT_BASE_URL})")
    option(
        "--timeout",
        type=float,
        help=f"seconds per attempt (default: $MOOR7_TIMEOUT or {DEFAULT_TIMEOUT:g})",
    )
    option(
        "--max-retries",
        type=int,
        help=(
            f"retries after a failed attempt (default: $MOOR7_MAX_RETRIES or {DEFAULT_MAX_RETRIES})"
        ),
    )
    option("--json", action="store_true", help="print JSON instead of a table")
    option(
        "--show-secrets",
        action="store_true",
        help="print SIP passwords (and any field named like a secret) instead of ***",
    )
    option("-v", "--verbose", action="store_true", help="log each attempt and retry to stderr")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="moor7",
        description=(
            "Look at a 7moor (七陌) V7 account (numbers, groups, agents, SIP numbers, skill "
            "groups) or call any endpoint."
        ),
        epilog=(
            "Credentials come from --appkey/--secret-key or the MOOR7_APPKEY and "
            "MOOR7_SECRET_KEY environment variables (prefer the environment: command "
            "lines are visible to other users of the machine). SIP passwords, and any "
            "field named like a secret, print as *** unless --show-secrets is given. "
            "Exit status: 0 success, 1 the call failed, 2 bad usage or configuration."
        ),
    )
    parser.add_argument("--version", action="version", version=f"moor7 {version}")
    _options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in (
        ("numbers", "the number pool (号码池): display, service and SIP numbers"),
        ("groups", "the display-number groups (外显号组)"),
        ("agents", "the agents (座席), every page: one call of the quota per 100 agents"),
        ("sip", "the SIP numbers and their registrations (SIP号列表)"),
        ("queues", "the skill groups (技能组) and their members"),
    ):
        _options(commands.add_parser(name, help=text, description=text), top=False)
    call = commands.add_parser(
        "call",
        help="call any V7 endpoint and print its data as JSON",
        description=(
            "Call any V7 endpoint with a JSON object as its body and print the answer's "
            "data as JSON. A path moor7 does not know is sent at most once (an action) "
            "unless --kind query says it only reads."
        ),
    )
    call.add_argument("path", help="the API path, e.g. /openapi/v1/call/query/agent")
    call.add_argument(
        "body",
        nargs="?",
        help=(
            "the JSON object to send: the text itself, @FILE to read it from a file, or - "
            "to read it from stdin (default: none)"
        ),
    )
    call.add_argument(
        "--kind",
        choices=["query", "action"],
        help="query (retried) or action (sent at most once); default: what moor7 knows",
    )
    _options(call, top=False)
    add_quota_command(commands)
    add_gateway_command(commands)
    return parser


# -- output ---------------------------------------------------------------------------


def _width(text: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _enum_name(value: enum.Enum) -> str:
    # The table and --json show an enum alike: as the lower-case name of its member
    # (CallAbility.SERVICE_AND_DISPLAY -> "service_and_display"). The JSON's keys are
    # moor7's names, not the wire's (call_ability, not callAbility), and so are its
    # values; the wire's (3, "enable", 1) say little alone, and `moor7 call` shows them.
    # A value 7moor's docs do not list stays the wire's value, in both.
    return value.name.lower()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, enum.Enum):
        return _enum_name(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        return ", ".join(_cell(item) for item in value) or "-"
    if isinstance(value, (NumberGroup, AgentQueue)):
        return value.name or value.id
    return str(value)


def _table(out: TextIO, title: str, headers: Sequence[str], rows: list[list[Any]]) -> None:
    out.write(f"{_fits(out, title)} ({len(rows)})\n")
    if not rows:
        out.write("  (none)\n\n")
        return
    cells = [[_fits(out, _cell(value)) for value in row] for row in rows]
    widths = [max(_width(h), *(_width(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        padded = (text + " " * (widths[i] - _width(text)) for i, text in enumerate(row))
        out.write("  " + "  ".join(padded).rstrip() + "\n")
    out.write("\n")


def _phone_rows(numbers: list[PhoneNumber]) -> list[list[Any]]:
    return [
        [
            n.number,
            n.call_ability,
            n.status,
            n.resource_type,
            n.line,
            n.concurrency,
            n.groups,
            n.update_time,
        ]
        for n in numbers
    ]


def _sip_rows(numbers: list[SipNumber]) -> list[list[Any]]:
    return [
        [
            n.number,
            n.status,
            n.register_status,
            n.register_device,
            n.coding_formats,
            n.is_nat,
            n.is_webrtc,
            n.update_time,
        ]
        for n in numbers
    ]


def _print_pool(out: TextIO, pool: NumberPool) -> None:
    phone_headers = ["number", "ability", "status", "type", "line", "calls", "groups", "updated"]
    _table(out, "外显号 display numbers", phone_headers, _phone_rows(pool.display_numbers))
    _table(out, "服务号 service numbers", phone_headers, _phone_rows(pool.service_numbers))
    sip_headers = ["number", "status", "registered", "device", "codecs", "NAT", "WebRTC", "updated"]
    _table(out, "SIP numbers", sip_headers, _sip_rows(pool.sip_numbers))
    out.write(f"request id: {pool.request_id or '-'}\n")


def _print_groups(out: TextIO, groups: NumberGroups) -> None:
    _table(out, "外显号组 display-number groups", ["id", "name"], [[g.id, g.name] for g in groups])
    out.write(f"request id: {groups.request_id or '-'}\n")


def _print_agents(out: TextIO, pages: list[AgentPage]) -> None:
    headers = ["agent", "name", "status", "mobile", "sip", "queues", "numbers"]
    rows = [
        [a.agent_number, a.name, a.status, a.mobile, a.sip_number, a.queues, a.numbers]
        for page in pages
        for a in page
    ]
    _table(out, "座席 agents", headers, rows)
    ids = ", ".join(page.request_id or "-" for page in pages)
    out.write(f"request id{'s' if len(pages) > 1 else ''}: {ids}\n")


def _print_sip(out: TextIO, registrations: SipRegistrations) -> None:
    headers = ["number", "registered", "device", "since", "client", "agent", "name"]
    rows = [
        [
            r.number,
            r.register_status,
            r.register_device,
            r.register_time,
            r.client_url,
            r.agent.agent_number if r.agent else None,
            r.agent.name if r.agent else None,
        ]
        for r in registrations
    ]
    _table(out, "SIP号 SIP numbers", headers, rows)
    out.write(f"request id: {registrations.request_id or '-'}\n")


def _print_queues(out: TextIO, queues: Queues) -> None:
    headers = ["id", "name", "status", "members", "updated"]
    rows = [
        [q.id, q.name, q.status, [m.agent_number or m.agent_id for m in q.members], q.update_time]
        for q in queues
    ]
    _table(out, "技能组 skill groups", headers, rows)
    out.write(f"request id: {queues.request_id or '-'}\n")


def _to_json(value: Any, show_secrets: bool = False) -> Any:
    if attrs.has(type(value)):
        document = {
            field.name: _to_json(getattr(value, field.name), show_secrets)
            for field in attrs.fields(type(value))
            if field.name != "raw"  # raw repeats everything, a SIP password included
        }
        # A SIP password shows that there is one, not what it is (see _reprs.masked).
        return document if show_secrets else masked(document)
    if isinstance(value, list):
        return [_to_json(item, show_secrets) for item in value]
    if isinstance(value, enum.Enum):
        return _enum_name(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# -- running ----------------------------------------------------------------------------


# Without -v, what a person waiting at the terminal wants to know: why it waits, and
# for how long (the records' moor7_* fields, docs/guides/logging.md), and warnings.
_NOTICES = frozenset({"quota_wait", "quota_pause", "retry"})


def _seconds(value: object) -> str:
    if not isinstance(value, (int, float)):
        return "a while"
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


class _LogFormatter(logging.Formatter):
    """A record in plain words: the quota's waits from their fields, the rest as logged."""

    def format(self, record: logging.LogRecord) -> str:
        event = getattr(record, "moor7_event", None)
        account = getattr(record, "moor7_account", None)
        wait = _seconds(getattr(record, "moor7_wait", None))
        if event == "quota_wait":
            return (
                f"moor7: waiting {wait} for a free slot of account {account}'s quota "
                "(7moor counts every call, each page and retry too)"
            )
        if event == "quota_pause":
            return f"moor7: the gateway answered over quota: account {account} waits {wait}"
        return super().format(record)


class _Notices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or getattr(record, "moor7_event", None) in _NOTICES


class _StatusLine:
    """One line of stderr rewritten in place while a long command runs, on a terminal
    only (a log or a pipe gets nothing): how far the paging got."""

    def __init__(self) -> None:
        self._shown = 0

    def show(self, text: str) -> None:
        stream = sys.stderr
        if not stream.isatty():
            return
        line = f"moor7: {text}"
        # Spaces, not an ANSI erase: a Windows console without VT mode shows those raw.
        stream.write("\r" + line + " " * max(0, self._shown - len(line)))
        stream.flush()
        self._shown = len(line)

    def clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * self._shown + "\r")
            sys.stderr.flush()
            self._shown = 0


_status_line = _StatusLine()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]  # [TextIO] fails on 3.10
    def __repr__(self) -> str:
        # logging's reads self.level, which a half-built handler lacks (a crash reporter
        # records frame locals: this must never raise).
        return f"<_StderrHandler {getattr(self, 'level', '(half-built)')}>"

    def emit(self, record: logging.LogRecord) -> None:
        _status_line.clear()  # a notice on a line of its own; the next page redraws it
        super().emit(record)


@contextmanager
def _logging_to_stderr(*, verbose: bool) -> Iterator[None]:
    # The command's own handler: without -v, the notices above (a wait for the quota, a
    # retry, a warning), so that a minute-long wait is never silent; with -v, every
    # attempt too. stamina's own records stay out (moor7 logs its retries itself).
    # Restored afterwards: main() may run in-process.
    handler = _StderrHandler(sys.stderr)
    handler.setFormatter(_LogFormatter("moor7: %(message)s"))
    if not verbose:
        handler.addFilter(_Notices())
    saved = []
    for name, level in (
        ("moor7", logging.DEBUG if verbose else logging.INFO),
        ("stamina", logging.ERROR),
    ):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def _agent_pages(client: Client) -> list[AgentPage]:
    # Every page is a call of the quota, and past 20 a minute each waits: on a terminal,
    # say how far it got.
    pages: list[AgentPage] = []
    try:
        for page in client.list_agent_pages():
            pages.append(page)
            count = sum(len(each) for each in pages)
            unit = "page" if len(pages) == 1 else "pages"
            _status_line.show(f"agents: {count} so far ({len(pages)} {unit})")
    finally:
        _status_line.clear()
    return pages


# The Client's settings in the CLI's words: where each came from (a flag or a variable),
# so that a message names what the user typed, not a Python parameter (appkey=...).
_FLAGS = {
    "appkey": "--appkey",
    "secret_key": "--secret-key",
    "base_url": "--base-url",
    "timeout": "--timeout",
    "max_retries": "--max-retries",
}
_VARIABLES = {
    "appkey": "MOOR7_APPKEY",
    "secret_key": "MOOR7_SECRET_KEY",
    "base_url": "MOOR7_BASE_URL",
}


def _variable(name: str) -> str | None:
    # As the library reads it: a variable that is set but empty counts as unset.
    return os.environ.get(_VARIABLES[name]) or None


def _setting(args: argparse.Namespace, name: str) -> tuple[str | None, str]:
    """The value of *name* from its flag, else its variable; and which one it came from."""
    flag, variable = _FLAGS[name], _VARIABLES[name]
    value = getattr(args, name)
    if value is not None:
        if not value.strip():
            msg = f"{flag} must not be empty"
            raise ConfigurationError(msg)
        return value, flag
    value = _variable(name)
    if value is not None and not value.strip():
        msg = f"{variable} must not be blank"
        raise ConfigurationError(msg)
    return value, variable


def _account(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    """The account's settings from flags or the environment, and where each came from.

    Checked here rather than left to the Client, whose messages name its parameters
    ("pass appkey=..."): a command-line user typed --appkey or MOOR7_APPKEY.
    """
    settings: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in ("appkey", "secret_key", "base_url"):
        settings[name], sources[name] = _setting(args, name)
    for name, what in (("appkey", "appkey"), ("secret_key", "secret key")):
        if settings[name] is None:
            msg = (
                f"no {what}: pass {_FLAGS[name]} or set {_VARIABLES[name]} "
                "(--sandbox needs no account)"
            )
            raise ConfigurationError(msg)
    if settings["base_url"] is None:
        settings["base_url"] = DEFAULT_BASE_URL
    return settings, sources


def _sandbox_notice(args: argparse.Namespace) -> None:
    ignored = [_FLAGS[name] for name in ("appkey", "secret_key", "base_url") if getattr(args, name)]
    if _variable("base_url") is not None:
        ignored.append(_VARIABLES["base_url"])
    if ignored:
        listed = ", ".join(ignored[:-1]) + " and " + ignored[-1] if len(ignored) > 1 else ignored[0]
        sys.stderr.write(
            f"moor7: --sandbox ignores {listed}: it calls its own fake gateway "
            "as the demo account\n"
        )


def _in_cli_words(error: ConfigurationError, sources: dict[str, str]) -> ConfigurationError:
    """*error* with the Client parameter it names replaced by its flag or variable."""
    message = str(error)
    for name, source in sources.items():
        if message.startswith(f"{name} "):
            return ConfigurationError(source + message[len(name) :])
    return error


@contextmanager
def _built(sources: dict[str, str]) -> Iterator[None]:
    try:
        yield
    except ConfigurationError as exc:
        raise _in_cli_words(exc, sources) from None


@contextmanager
def _client(args: argparse.Namespace) -> Iterator[Client]:
    # --timeout 0 is refused by the Client's own rule (it must be > 0); it is not
    # "the default", as "args.timeout or DEFAULT_TIMEOUT" once made it. Without a flag,
    # the Client reads MOOR7_TIMEOUT and MOOR7_MAX_RETRIES, as a program would.
    tuning: dict[str, Any] = {
        "timeout": USE_CLIENT_DEFAULT if args.timeout is None else args.timeout,
        "max_retries": args.max_retries,
    }
    sources = {"timeout": _FLAGS["timeout"], "max_retries": _FLAGS["max_retries"]}
    if not args.sandbox:
        account, account_sources = _account(args)
        sources.update(account_sources)
        with _built(sources):
            client = Client(**account, **tuning)
        with client:
            yield client
        return
    _sandbox_notice(args)
    # Imported here: the fake gateway (aiohttp.web) is only needed by the sandbox.
    from .testing import DEMO_APPKEY, DEMO_SECRET_KEY, FakeGateway

    with FakeGateway() as gateway:
        with _built(sources):
            client = Client(
                DEMO_APPKEY,
                DEMO_SECRET_KEY,
                base_url=gateway.url,
                limiter=Unlimited(),  # the fake gateway is not the account's quota
                **tuning,
            )
        with client:
            yield client


def _call_body(args: argparse.Namespace) -> Any:
    if args.json:  # refused rather than ignored: a flag that does nothing misleads
        msg = "moor7 call always prints JSON (the data as the gateway sent it): leave out --json"
        raise ConfigurationError(msg)
    if args.body is None:
        return None
    text, where = _body_text(args.body)
    try:
        body = json.loads(text)
    except ValueError as exc:
        msg = f"{where} is not JSON: {exc}"
        raise ConfigurationError(msg) from exc
    if not isinstance(body, dict):
        msg = f'{where} must be a JSON object, e.g. \'{{"agentNumber": "2000"}}\''
        raise ConfigurationError(msg)
    return body


def _body_text(argument: str) -> tuple[str, str]:
    """BODY's text, and how to name it in a message: as given, from @FILE, or from stdin
    (-), as curl reads -d. JSON is UTF-8 (RFC 8259): read as bytes, whatever the
    terminal's encoding; a BOM, as Windows editors write it, is dropped."""
    if argument == "-":
        stdin = sys.stdin
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
        where = "BODY from stdin"
    elif argument.startswith("@"):
        path = argument[1:]
        where = f"BODY from {path}"
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            msg = f"{where}: cannot read it: {exc.strerror or exc}"
            raise ConfigurationError(msg) from exc
    else:
        return argument, "BODY"
    try:
        return raw.decode("utf-8-sig"), where
    except UnicodeDecodeError as exc:
        msg = f"{where} is not UTF-8 text: {exc}"
        raise ConfigurationError(msg) from exc


def _emit(
    out: TextIO, value: Any, request_ids: list[str | None], *, show_secrets: bool = False
) -> None:
    """--json: the document on stdout, the request ids on stderr."""
    plain = _to_json(value, show_secrets)
    document = json.dumps(plain, ensure_ascii=False, indent=2)
    if _fits(out, document) != document:
        # JSON's own escapes (\u5ba2), so that the document stays valid JSON where the
        # terminal cannot show a character (a backslashreplace of 😀 would not be).
        document = json.dumps(plain, indent=2)
    out.write(document + "\n")
    ids = ", ".join(request_id or "-" for request_id in request_ids)
    sys.stderr.write(f"request id{'s' if len(request_ids) > 1 else ''}: {ids}\n")


@tolerant_repr
@attrs.frozen
class _Command:
    """A command that shows one result: what to call, and how to draw it as a table."""

    fetch: Callable[[Client], Any]
    table: Callable[[TextIO, Any], None]

    def run(self, client: Client, args: argparse.Namespace, out: TextIO) -> None:
        result = self.fetch(client)
        if not args.json:
            self.table(out, result)
            if args.show_secrets:
                _print_secrets(out, result)
            return
        secrets = {"show_secrets": args.show_secrets}
        if type(result) is list:  # the pages of a paged endpoint: their items, in order
            items = [item for page in result for item in page]
            _emit(out, items, [p.request_id for p in result], **secrets)
        else:
            _emit(out, result, [result.request_id], **secrets)


def _print_secrets(out: TextIO, result: Any) -> None:
    """--show-secrets: what the tables leave out, the SIP passwords."""
    if isinstance(result, NumberPool):
        rows = [[n.number, n.password] for n in result.sip_numbers]
        _table(out, "SIP passwords", ["number", "password"], rows)


_COMMANDS = {
    "numbers": _Command(lambda c: c.get_number_pool(), _print_pool),
    "groups": _Command(lambda c: c.list_display_number_groups(), _print_groups),
    "agents": _Command(_agent_pages, _print_agents),
    "sip": _Command(lambda c: c.list_sip_numbers(), _print_sip),
    "queues": _Command(lambda c: c.list_queues(), _print_queues),
}


def _envelope(envelope: Envelope) -> Envelope:
    return envelope


def _call(client: Client, args: argparse.Namespace, body: Any, out: TextIO) -> None:
    kind = kind_for(args.path, args.kind)
    # The envelope, not only its data: the command prints the call's request id too.
    envelope = client._run(
        lambda c: c._send(
            args.path, kind, body, USE_CLIENT_DEFAULT, None, USE_CLIENT_DEFAULT, _envelope
        )
    )
    data = envelope.data if args.show_secrets else masked(envelope.data)
    _emit(out, data, [envelope.request_id], show_secrets=args.show_secrets)


def _gateway(args: argparse.Namespace) -> int:
    # The options given before the command are those of the commands that call a
    # gateway; this one serves one, as the demo account.
    given = [
        _OPTION_NAMES[name] for name in _OPTION_NAMES if getattr(args, name) not in (None, False)
    ]
    try:
        if given:
            msg = f"moor7 gateway takes no {', '.join(given)}: it serves the demo account"
            raise ConfigurationError(msg)
        return run_gateway(args)
    except ConfigurationError as exc:
        sys.stderr.write(f"moor7: error: {exc}\n")
        return 2


def _quota(args: argparse.Namespace, out: TextIO) -> int:
    # It reads Redis, calls no gateway: the options of the commands that do say nothing.
    given = [
        _OPTION_NAMES[name]
        for name in ("sandbox", "secret_key", "base_url", "timeout", "max_retries", "show_secrets")
        if getattr(args, name, None) not in (None, False)
    ]
    try:
        if given:
            msg = f"moor7 quota takes no {', '.join(given)}: it reads the limiter's Redis"
            raise ConfigurationError(msg)
        with _logging_to_stderr(verbose=args.verbose):
            return run_quota(args, out)
    except ConfigurationError as exc:
        sys.stderr.write(f"moor7: error: {exc}\n")
        return 2
    except Moor7Error as exc:
        sys.stderr.write(f"moor7: error: {type(exc).__name__}: {exc}\n")
        return 1


_OPTION_NAMES = {
    **_FLAGS,
    "sandbox": "--sandbox",
    "json": "--json",
    "show_secrets": "--show-secrets",
    "verbose": "--verbose",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``moor7`` command; return its exit status."""
    with _output_that_degrades():
        return _main(argv)


@contextmanager
def _output_that_degrades() -> Iterator[None]:
    # A terminal that cannot show a character (PYTHONIOENCODING=cp1252, a Windows
    # console, LANG=C on an old system) gets an escape (\u5ba2) instead of a
    # UnicodeEncodeError: the command still does its work. Restored afterwards, as
    # main() may run in-process.
    saved = []
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) == "strict":
            reconfigure(errors="backslashreplace")
            saved.append(reconfigure)
    try:
        yield
    finally:
        for reconfigure in saved:
            reconfigure(errors="strict")


def _fits(out: TextIO, text: str) -> str:
    """*text* as *out* will show it: escaped where its encoding cannot (so that the
    table's columns are measured as shown)."""
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    return text


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    out = sys.stdout
    if args.command == "gateway":
        return _gateway(args)
    if args.command == "quota":
        return _quota(args, out)
    try:
        body = _call_body(args) if args.command == "call" else None
        with _logging_to_stderr(verbose=args.verbose), _client(args) as client:
            if args.command == "call":
                _call(client, args, body, out)
            else:
                _COMMANDS[args.command].run(client, args, out)
    except ConfigurationError as exc:
        sys.stderr.write(f"moor7: error: {exc}\n")
        return 2
    except Moor7Error as exc:
        sys.stderr.write(f"moor7: error: {type(exc).__name__}: {exc}\n")
        # The id 7moor support asks for, on its own line as after a success.
        request_id = getattr(exc, "request_id", None)
        if request_id:
            sys.stderr.write(f"request id: {request_id}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run() -> None:  # pragma: no cover - the console-script entry point
    """Entry point of the ``moor7`` console script and ``python -m moor7``."""
    # A closed pipe (moor7 numbers | head) is not an error worth a traceback.
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = 0
    sys.exit(status)
