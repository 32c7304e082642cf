"""uvicorn in a background thread: the app served beside a simulated run or a node.

:class:`AppServer` binds the socket itself, so that a taken address is one clear exception
(:class:`AddressInUseError`) in the caller's thread instead of uvicorn's log line and exit, and so
that port 0 gives a free port that :meth:`AppServer.start` reports in its URL. With a
certificate and key (``tls``) it serves HTTPS; files that cannot be used are refused in words
before anything is bound (:func:`check_tls`).
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
from typing import Any

import uvicorn

#: How long :meth:`AppServer.start` waits for uvicorn to serve, and :meth:`AppServer.stop`
#: for it to finish (s).
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class AppServerError(RuntimeError):
    """The app could not be served (one line in words)."""


class AddressInUseError(AppServerError):
    """The host:port is taken by another program (or another app)."""


def _bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket bound to ``host:port`` (IPv4 or IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise AppServerError(f'cannot serve the app on {host}:{port}: {exc.strerror}') from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise AddressInUseError(
                f'cannot serve the app on {host}:{port}: the address is in use '
                '(another program, or another app, serves there): choose another port'
            ) from exc
        raise AppServerError(f'cannot serve the app on {host}:{port}: {exc.strerror}') from exc
    sock.set_inheritable(True)
    return sock


def check_tls(tls: tuple[str, str]) -> None:
    """Load the certificate chain and key once; :class:`AppServerError` in words if they fail."""
    cert, key = tls
    for what, path in (('certificate', cert), ('key', key)):
        try:
            with open(path, 'rb'):
                pass
        except OSError as exc:
            raise AppServerError(f'cannot serve HTTPS: the {what} {path}: {exc.strerror}') from exc
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise AppServerError(
            f'cannot serve HTTPS with {cert} and {key}: not a PEM certificate chain and its '
            f'private key ({exc})'
        ) from exc


def _url_host(host: str) -> str:
    """The host to put in a URL for a server bound to ``host``."""
    if host in ('0.0.0.0', ''):
        return '127.0.0.1'  # every interface: this machine's own address works
    if host == '::':
        return '[::1]'
    return f'[{host}]' if ':' in host else host


class AppServer:
    """Serves an ASGI ``app`` on ``host:port`` from a daemon thread (``port`` 0: any free)."""

    def __init__(
        self,
        app: Any,
        host: str = '127.0.0.1',
        port: int = 8080,
        tls: tuple[str, str] | None = None,
    ) -> None:
        """Nothing is bound before :meth:`start`; ``tls``: (certificate, key) PEM files: HTTPS."""
        self.app = app
        self.host = host
        self.port = port
        self.tls = tls
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The page's URL (the bound port once started)."""
        scheme = 'https' if self.tls else 'http'
        return f'{scheme}://{_url_host(self.host)}:{self.port}/'

    def start(self) -> str:
        """Bind, serve in the background, wait until it answers; returns :attr:`url`.

        Raises :class:`AddressInUseError` when the address is taken, :class:`AppServerError` when
        uvicorn does not start.
        """
        if self._thread is not None:
            raise AppServerError('the app server is already started')
        if self.tls:
            check_tls(self.tls)
        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the process's logging as it is
            log_level='warning',
            access_log=False,
            proxy_headers=False,  # the client address is the peer's (the login limit's key)
            server_header=False,
            lifespan='off',
            timeout_graceful_shutdown=int(STOP_TIMEOUT_S),
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name='mower-app', daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                why = f': {self._error}' if self._error else ''
                raise AppServerError(f'the app server did not start on {self.url}{why}')
            time.sleep(0.01)
        return self.url

    def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        try:
            self._server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 (SystemExit from uvicorn too: report it)
            self._error = exc
        finally:
            sock.close()

    def stop(self) -> None:
        """Stop serving (open live sockets are closed) and wait for the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S + 1.0)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT_S)
        self._thread = None
        self._server = None

    def __enter__(self) -> AppServer:
        """Start (``with AppServer(...) as server:``)."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()
