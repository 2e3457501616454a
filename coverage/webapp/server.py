"""Serving the app with uvicorn: in the foreground (the ``serve`` command) or in a thread (notebooks, tests, benchmarks).

:func:`is_loopback` tells whether an address only this machine can reach; the
command requires a token for any other.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from coverage._errors import InputError

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    """A random access token for a server reachable from other machines."""
    return secrets.token_urlsafe(18)


def check_port_free(host: str, port: int) -> int:
    """The port to listen on: ``port`` when free (a free one for 0), else an InputError with the fix.

    Checked before the region is loaded, which takes a while.
    """
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            msg = (
                f"cannot listen on {host}:{port} ({error.strerror}); give another --port, or stop the program using it"
            )
            raise InputError(msg) from None
        return int(probe.getsockname()[1])


def _config(app: Starlette, host: str, port: int, *, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(app, host=host.strip("[]"), port=port, log_level=log_level, access_log=False, lifespan="off")


def serve_forever(app: Starlette, *, host: str, port: int, log_level: str = "warning") -> None:
    """Serve in the foreground until interrupted (Ctrl+C)."""
    uvicorn.Server(_config(app, host, port, log_level=log_level)).run()


class ServerThread:
    """The app served by uvicorn in a background thread, until :meth:`stop` (or the end of a ``with`` block).

    Parameters
    ----------
    app : Starlette
    host : str
    port : int
        0 picks a free port; :attr:`url` tells which.
    """

    def __init__(self, app: Starlette, *, host: str = DEFAULT_HOST, port: int = 0, log_level: str = "warning") -> None:
        self.server = uvicorn.Server(_config(app, host, port, log_level=log_level))
        # uvicorn installs its signal handlers only in the main thread: a thread leaves them alone
        self.thread = threading.Thread(target=self.server.run, name="facility-coverage-serve", daemon=True)
        self.host = host

    def start(self, *, timeout_s: float = 30.0) -> ServerThread:
        """Start serving and wait until the server listens."""
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                msg = f"the web server did not start within {timeout_s:g} s"
                raise RuntimeError(msg)
            time.sleep(0.02)
        return self

    @property
    def port(self) -> int:
        """The port listened on."""
        sockets = self.server.servers[0].sockets
        return int(sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """The server's address, e.g. ``http://127.0.0.1:8765/``."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"http://{host}:{self.port}/"

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        self.server.should_exit = True
        self.thread.join(timeout_s)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
