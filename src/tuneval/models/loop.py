"""Event loops: sync APIs that work inside a running loop, and a private loop per HTTP backend.

Two problems of async code called from sync code, solved once here:

- `run_sync` / `outside_loop`: the sync API (``generate``, ``judge_scores``,
  ``full_evaluation``...) runs coroutines with ``asyncio.run``, which refuses to start inside
  a running loop (Jupyter, an async web app). There the work runs in a worker thread, which
  has no loop of its own, and the caller gets the result as before.
- `PrivateLoop`: an async HTTP client (httpx under the openai and anthropic SDKs) belongs to
  the loop that first used it: its pooled connections die with that loop, and closing it
  from another loop fails with ``RuntimeError: Event loop is closed``. A backend holding such
  a client runs every call on one private loop in a daemon thread for its whole life, so
  callers may come from any loop (one ``asyncio.run`` per workflow step, a notebook's loop, a
  worker thread) and the client is opened and closed inside the loop that used it.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


def loop_running() -> bool:
    """True when this thread is inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def outside_loop(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` where no event loop runs: here, or in a worker thread when one does.

    Sync code that starts its own loops (``asyncio.run``) must not run on a thread whose loop
    is running; the worker thread lets it, while the caller waits for the result.
    """
    if not loop_running():
        return func(*args, **kwargs)
    with ThreadPoolExecutor(1, thread_name_prefix="tuneval-sync") as pool:
        return pool.submit(func, *args, **kwargs).result()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, whether or not a loop is running here."""
    return outside_loop(asyncio.run, coro)


def synchronous(
    coroutine_function: Callable[P, Coroutine[Any, Any, T]], name: str, doc: str
) -> Callable[P, T]:
    """The sync twin of an async function: same parameters, run with `run_sync`.

    Args:
        coroutine_function: The async function.
        name: The twin's ``__name__`` (the name it is bound to in its module).
        doc: The twin's docstring.
    """

    @functools.wraps(coroutine_function)
    def twin(*args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(coroutine_function(*args, **kwargs))

    twin.__name__ = name
    twin.__qualname__ = name
    twin.__doc__ = doc
    return twin


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        # As asyncio.run ends: calls still in flight are cancelled, not left dangling.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if not loop.is_closed():
        loop.call_soon_threadsafe(loop.stop)
    if thread is not threading.current_thread():
        thread.join(10)


class PrivateLoop:
    """One event loop in a daemon thread, started on first use, for one backend's calls.

    Args:
        name: Thread name (shows in debuggers and thread dumps).
    """

    def __init__(self, name: str = "tuneval-backend") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._finalizer: Callable[[], object] | None = None

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_serve, args=(loop,), name=self._name, daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
                # A backend dropped without aclose() still stops its thread.
                self._finalizer = weakref.finalize(self, _stop, loop, thread)
            return self._loop

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the private loop from any loop; cancelling this cancels it there."""
        loop = self._ensure()
        if asyncio.get_running_loop() is loop:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    async def aclose(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` on the private loop (if it ever started), then stop the loop.

        A later `call` starts a fresh loop, so a closed backend can still be used.
        """
        with self._lock:
            loop, self._loop = self._loop, None
            finalizer, self._finalizer = self._finalizer, None
        if loop is None or finalizer is None:
            return

        async def close() -> None:
            await closer()

        try:
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(close(), loop))
        finally:
            # Joining the thread blocks; it only waits for run_forever to return.
            finalizer()
