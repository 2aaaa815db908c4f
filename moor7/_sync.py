"""The sync facade: ``moor7.Client`` for blocking code, with no request logic of its own.

Every ``Client`` forwards to an :class:`~moor7.AsyncClient` that runs on one background
event loop per process, in a daemon thread started on first use and shared by all
clients. The alternatives fail where our users call from:

- ``asyncio.run()`` per call makes a new loop each time, so a pooled aiohttp session
  (bound to its first loop) breaks on the second call, and it cannot run at all inside
  an already running loop (Jupyter, an async framework calling a blocking helper).
- ``nest_asyncio`` patches asyncio globally, under other people's code.

One loop thread means: many threads may share one ``Client`` (Django, Flask); a call
from inside a running loop just blocks that caller, like any blocking I/O; after
``os.fork()`` the child lazily starts its own loop thread and its own sessions
(gunicorn/celery pre-fork); at interpreter exit the open clients are closed on the loop
before it stops, so nothing warns and nothing hangs.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import ssl
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Literal, TypeVar

from ._client import AsyncClient, resolve_credentials
from ._endpoints import USE_CLIENT_DEFAULT, UseClientDefault
from ._limits import Limiter, Priority
from ._signing import HmacSigner, Secret, Signer, revealed
from ._sync_methods import SyncEndpoints
from ._transport import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_SIZE, AiohttpTransport
from .exceptions import ClientClosedError, UsageError

__all__ = ["Client"]

T = TypeVar("T")

# How long interpreter exit waits for open clients to close their connections.
_EXIT_CLOSE_TIMEOUT = 5.0


class _LoopThread:
    """An event loop running forever in a daemon thread; one per process."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.stopping = False
        self._clients: weakref.WeakSet[AsyncClient] = weakref.WeakSet()
        self._clients_lock = threading.Lock()
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self._run, args=(ready,), name="moor7-event-loop", daemon=True
        )
        try:
            self.thread.start()
        except RuntimeError as exc:  # "can't create new thread at interpreter shutdown"
            self.loop.close()
            msg = f"cannot start moor7's event loop thread: {exc}"
            raise ClientClosedError(msg) from exc
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()

    def exited(self) -> bool:
        """Whether interpreter exit stopped this loop (see Client._run_after_exit)."""
        return self.stopping or self.loop.is_closed()

    def add_client(self, client: AsyncClient) -> None:
        with self._clients_lock:
            self._clients.add(client)

    def clients(self) -> list[AsyncClient]:
        with self._clients_lock:
            return list(self._clients)

    def run(self, coroutine: Coroutine[Any, Any, T], limiter: Limiter | None = None) -> T:
        if threading.current_thread() is self.thread:
            coroutine.close()
            msg = (
                "a blocking moor7.Client call was made from moor7's own event loop "
                "(from a signer or limiter?): it would wait for itself forever. Use "
                "the AsyncClient there."
            )
            raise UsageError(msg)
        if self.stopping or self.loop.is_closed():
            coroutine.close()
            msg = "the interpreter is exiting: moor7's event loop has stopped"
            raise ClientClosedError(msg)
        try:
            caller_loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            caller_loop = None
        if caller_loop is None:
            return self._wait(asyncio.run_coroutine_threadsafe(coroutine, self.loop))
        # Called from inside a running event loop (Jupyter, an async framework calling a
        # blocking helper): that loop is blocked until we return. The limiter's optional
        # hook (see moor7.Limiter) keeps its waiters and calls from holding us up.
        hook = getattr(limiter, "loop_blocked", None)
        blocked = contextlib.nullcontext() if hook is None else hook(caller_loop)
        with blocked:
            return self._wait(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    @staticmethod
    def _wait(future: concurrent.futures.Future[T]) -> T:
        try:
            return future.result()
        except BaseException:
            # KeyboardInterrupt (Ctrl-C) or another interruption of the waiting thread:
            # cancel the call on the loop, so it does not run on unobserved and the
            # client stays usable.
            future.cancel()
            raise

    def close_clients_and_stop(self) -> None:
        if self.pid != os.getpid() or not self.thread.is_alive():
            return
        self.stopping = True

        async def close_all() -> None:
            await asyncio.gather(*(c.aclose() for c in self.clients()), return_exceptions=True)

        future = asyncio.run_coroutine_threadsafe(close_all(), self.loop)
        try:
            future.result(timeout=_EXIT_CLOSE_TIMEOUT)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            future.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=_EXIT_CLOSE_TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()


_loop_thread: _LoopThread | None = None
_loop_thread_lock = threading.Lock()
# Clients inherited from the parent process across a fork. Their sessions belong to
# the parent's loop, which does not run here: closing them would touch sockets the
# parent still uses, and letting them be collected would warn "Unclosed client
# session". Keeping them referenced for the life of the child does neither.
_inherited_after_fork: list[AsyncClient] = []
_all_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def _get_loop_thread() -> _LoopThread:
    global _loop_thread
    with _loop_thread_lock:
        if _loop_thread is None or _loop_thread.pid != os.getpid():
            _loop_thread = _LoopThread()
            atexit.register(_loop_thread.close_clients_and_stop)
        return _loop_thread


def _after_fork_in_child() -> None:
    global _loop_thread, _loop_thread_lock
    # Locks may have been held by threads that did not survive the fork.
    _loop_thread_lock = threading.Lock()
    for client in list(_all_clients):
        client._lock = threading.Lock()
    if _loop_thread is not None:
        inherited = _loop_thread.clients()
        for async_client in inherited:
            # The parent's answers are of no use here (this process makes its calls
            # anew) and may hold SIP passwords: nothing more is kept of them.
            async_client._answers.forget()
        _inherited_after_fork.extend(inherited)
        _loop_thread = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _close_in_background(client: AsyncClient, loop_thread: _LoopThread) -> None:
    # Runs when a Client is garbage collected without close(): schedule, never wait,
    # since collection can happen on any thread, the loop's own included.
    if loop_thread.pid == os.getpid() and not loop_thread.loop.is_closed():
        # RuntimeError: the loop is shutting down, and exit closes the rest.
        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(client.aclose(), loop_thread.loop)


class Client(SyncEndpoints):
    """The blocking client of the 7moor V7 OpenAPI, for code that does not ``await``.

    Same arguments and methods as :class:`AsyncClient`, without ``await``. It is safe to
    share one ``Client`` between threads, to use it inside a running event loop (the
    call blocks like any blocking I/O), and to use it in a child process after
    ``os.fork()``.

    Example:
        ::

            with moor7.Client(appkey="2000103", secret_key="...") as client:
                pool = client.get_number_pool()

    Args:
        appkey: The account id. Default: ``MOOR7_APPKEY``.
        secret_key: The account's secret key. Default: ``MOOR7_SECRET_KEY``.
        base_url: The gateway. Default: ``MOOR7_BASE_URL``, then the documented host.
        signer: Signs each attempt. Default: :class:`HmacSigner`.
        limiter: Keeps the account within its quota. Default: the process-wide
            :func:`default_limiter`.
        timeout: Seconds for one attempt; ``None`` for no limit. Default:
            ``MOOR7_TIMEOUT``, then 10.
        deadline: Seconds for a whole call (quota wait, attempts, backoffs); ``None``
            for no limit. A call that cannot finish in time raises
            :class:`~moor7.DeadlineExceeded` at once.
        max_retries: How many times a failed call is tried again (an action only when
            the gateway certainly did not act). Default: ``MOOR7_MAX_RETRIES``, then 3.
        backoff_initial: Seconds before the first retry.
        backoff_max: The longest wait between two attempts.
        priority: How soon this client's calls take a free slot of the quota:
            ``"interactive"`` or ``"batch"``, for every call that does not say.
            Default: each endpoint's own (batch for paging and reports).
        max_age: Seconds: a query is served an identical answer this client received
            at most that long ago, from memory, without a call of the quota; ``None``
            (the default): every answer from the gateway. Calls from many threads
            share the answers.
        share_answers: Whether a query identical to one on its way waits for that
            call's answer instead of sending its own (the default), whichever thread
            asked.
        max_response_size: The largest answer read, in bytes after decompression.
        proxy: The proxy for every call; default: the environment's
            (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``).
        verify: ``True`` to verify the gateway's TLS certificate, an
            ``ssl.SSLContext`` of your own (a CA bundle), or ``False``.
        max_connections: The most connections open at once (100).

    There is no ``session=`` or ``transport=``: an ``aiohttp.ClientSession`` belongs to
    the event loop it was made on, and the client's loop is private. The transport
    settings above reach the session it makes; share one ``Client``.

    Raises:
        ConfigurationError: Missing or invalid credentials or settings.
    """

    def __init__(
        self,
        appkey: str | None = None,
        secret_key: str | None = None,
        *,
        base_url: str | None = None,
        signer: Signer | None = None,
        limiter: Limiter | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
        deadline: float | None = None,
        max_retries: int | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        priority: Priority | Literal["interactive", "batch"] | None = None,
        max_age: float | None = None,
        share_answers: bool = True,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        proxy: str | None = None,
        verify: ssl.SSLContext | bool = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        # The secret is wrapped at once and the plain string dropped (a crash reporter
        # records frame locals), and only the signer holding it is kept: never the
        # secret in clear, as a functools.partial of the arguments would.
        secret = None if secret_key is None else Secret(secret_key)
        del secret_key
        # So are the proxy's URL and the gateway's, which may hold a password (refused):
        # kept wrapped in the settings.
        proxy_url = None if proxy is None else Secret(proxy)
        gateway_url = None if base_url is None else Secret(base_url)
        del proxy, base_url
        # Built here, in the caller's thread, so that bad arguments fail at the call
        # site; the AsyncClient binds to the background loop only on its first call.
        self._settings: dict[str, Any] = {
            "base_url": gateway_url,
            "limiter": limiter,
            "timeout": timeout,
            "deadline": deadline,
            "max_retries": max_retries,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
            "priority": priority,
            "max_age": max_age,
            "share_answers": share_answers,
            "max_response_size": max_response_size,
            "proxy": proxy_url,
            "verify": verify,
            "max_connections": max_connections,
        }
        self._async_client = AsyncClient(
            appkey,
            signer=resolve_credentials(appkey, secret, signer)[1],
            **{**self._settings, "proxy": revealed(proxy_url), "base_url": revealed(gateway_url)},
        )
        # As read now: a client made again after a fork keeps them, whatever the
        # environment says by then.
        self._settings["timeout"] = self._async_client.timeout
        self._settings["max_retries"] = self._async_client.max_retries
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._closed = False
        self._finalizer: weakref.finalize[Any, Client] | None = None
        _all_clients.add(self)

    def _make_async_client(self, *, at_exit: bool = False) -> AsyncClient:
        """A new AsyncClient with this client's settings (in a child after fork, or for
        a call at interpreter exit)."""
        signer = self._async_client.signer
        if isinstance(signer, HmacSigner):
            signer = signer._forked()  # its lock may have been held at the fork
        settings = dict(self._settings)
        del settings["base_url"]  # wrapped there; the URL the first client checked is below
        transport = AiohttpTransport(
            max_response_size=settings.pop("max_response_size"),
            proxy=revealed(settings.pop("proxy")),
            verify=settings.pop("verify"),
            max_connections=settings.pop("max_connections"),
            _at_exit=at_exit,
        )
        return AsyncClient(
            self._async_client.appkey,
            signer=signer,
            transport=transport,
            base_url=self._async_client.base_url,
            **settings,
        )

    def __repr__(self) -> str:
        # getattr: a half-built client (its __init__ raised) must still show itself.
        inner = getattr(self, "_async_client", None)
        state = " closed" if getattr(self, "_closed", False) else ""
        appkey, base_url = getattr(inner, "appkey", None), getattr(inner, "base_url", None)
        return f"<Client appkey={appkey!r} base_url={base_url!r}{state}>"

    @property
    def appkey(self) -> str:
        """The account id."""
        return self._async_client.appkey

    @property
    def base_url(self) -> str:
        """The gateway's base URL."""
        return self._async_client.base_url

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the client's connections. Safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            client = self._async_client
            started = self._finalizer is not None and self._pid == os.getpid()
        if self._finalizer is not None:
            self._finalizer.detach()
        if started and not client.closed:
            with contextlib.suppress(ClientClosedError):  # exit already closed it
                _get_loop_thread().run(client.aclose())

    def _client_for_this_process(self, loop_thread: _LoopThread) -> AsyncClient:
        with self._lock:
            if self._closed:
                msg = "this client is closed; create a new one"
                raise ClientClosedError(msg)
            if self._pid != os.getpid():
                # A child after fork: the parent's AsyncClient is bound to a loop that
                # does not run here. Start afresh with the same settings.
                self._async_client = self._make_async_client()
                self._pid = os.getpid()
                self._finalizer = None
            client = self._async_client
            if self._finalizer is None:
                loop_thread.add_client(client)
                self._finalizer = weakref.finalize(self, _close_in_background, client, loop_thread)
                self._finalizer.atexit = False  # exit is handled by the loop thread
        return client

    def _run(self, call: Callable[[AsyncClient], Coroutine[Any, Any, T]]) -> T:
        loop_thread = _get_loop_thread()
        if loop_thread.exited():
            return self._run_after_exit(call)
        client = self._client_for_this_process(loop_thread)
        return loop_thread.run(call(client), client.limiter)

    def _run_after_exit(self, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run one call on an event loop of its own, in this thread.

        moor7's loop thread stops at interpreter exit, in its own atexit handler; an
        application's handler registered before moor7's runs after it, and may still
        call (to flush a last report). Each such call gets a fresh client, closed after.
        """
        with self._lock:
            if self._closed:
                msg = "this client is closed; create a new one"
                raise ClientClosedError(msg)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            msg = (
                "the interpreter is exiting and moor7's event loop has stopped: a blocking "
                "call cannot run from inside a running event loop now; await an AsyncClient"
            )
            raise ClientClosedError(msg)

        async def once() -> T:
            async with self._make_async_client(at_exit=True) as client:
                return await call(client)

        return asyncio.run(once())

    def _iterate(self, make: Callable[[AsyncClient], AsyncIterator[T]]) -> Iterator[T]:
        loop_thread = _get_loop_thread()
        if loop_thread.exited():
            # At exit, no loop runs between two steps: every page is fetched at once.

            async def every_item(client: AsyncClient) -> list[T]:
                return [item async for item in make(client)]

            return iter(self._run_after_exit(every_item))
        client = self._client_for_this_process(loop_thread)
        # Made here, in the caller's thread: the async method checks its arguments when
        # called, so a bad one raises at the call site, before anything is sent.
        iterator = make(client)
        return _blocking_iterator(iterator, loop_thread, client.limiter)


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


def _blocking_iterator(
    iterator: AsyncIterator[T], loop_thread: _LoopThread, limiter: Limiter
) -> Iterator[T]:
    """Drive *iterator* on the background loop, one item per step of the caller's."""
    try:
        while True:
            try:
                item = loop_thread.run(_awaited(iterator.__anext__()), limiter)
            except StopAsyncIteration:
                return
            yield item
    finally:
        # A loop that stops early (break, an exception) closes the iterator, and with it
        # the pages not yet fetched; at interpreter exit the loop may be gone already.
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(ClientClosedError, UsageError):
                loop_thread.run(_awaited(close()), limiter)
