"""The owner's app: a JSON API and a live WebSocket over the operator interface, and the page.

:func:`create_app` builds the FastAPI application around any object with the operator's
``status()`` / ``command()`` and the map view's ``lawn_geojson()`` / ``plan()`` /
``camera_jpeg()`` / ``coverage_png()`` / ``obstacles()`` (:class:`AppOperator`: the
simulator's ``SimOperator``, the robot's ``RosOperator``). It keeps no state of the mower:
every answer is asked of the operator.

The rules (README, "The owner's app"): a password login makes a server-side session (an
HttpOnly, SameSite=Strict cookie); every command needs that session, its CSRF token in the
``X-CSRF-Token`` header, and, when the browser sends an ``Origin``, the app's own origin; the
status, the map and the live socket need the session too unless ``read_only_view`` is on;
failed logins are rate-limited per client address. Errors are ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from mower_app.auth import (
    LoginLimiter,
    PasswordError,
    PasswordNotSetError,
    Session,
    SessionStore,
    check_password,
    default_password_file,
    password_is_set,
)
from mower_app.history import HistoryFeeder, RunHistory
from mower_app.map_api import add_map_routes
from mower_app.schedule_api import add_schedule_routes
from mower_app.teach_api import add_teach_routes
from mower_app.view_api import add_view_routes
from mower_control.operator import MapView, Operator, check_command

#: The page's files (index.html, app.js, ...), served at ``/``.
STATIC_DIR = Path(__file__).resolve().parent / 'static'
#: The session cookie's name.
COOKIE = 'mower_session'
#: The header that carries the session's CSRF token.
CSRF_HEADER = 'X-CSRF-Token'
#: How often the live socket polls the operator (s), and the longest gap between statuses (s).
POLL_S = 0.1
STATUS_EVERY_S = 0.5
#: WebSocket close codes: not logged in; cross-site.
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
#: Sent with every HTTP response.
SECURITY_HEADERS = {
    'Content-Security-Policy': (
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'"
    ),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
}


class AppOperator(Operator, MapView, Protocol):
    """What the app needs of the stack: the operator interface and the map view."""


@dataclass(frozen=True)
class AppSettings:
    """How the app is served and who may do what."""

    host: str = '127.0.0.1'  # the address to listen on ('0.0.0.0': the whole LAN)
    port: int = 8080  # 0: any free port
    password_file: Path | str = field(default_factory=default_password_file)
    read_only_view: bool = False  # status, map and live view without login (never commands)
    session_hours: float = 12.0  # a login lasts this long (h)
    login_attempts_per_minute: int = 5  # failed logins per client address, then HTTP 429
    # where the app keeps what the owner makes: the map's versions (maps/), schedule.json
    data_dir: Path | str = field(default_factory=lambda: Path.home() / '.config' / 'mower')
    # at start, a last saved map that differs from the mower's is put in force (the robot:
    # its nodes follow map/lawn); False: the mower's map becomes the newest version (the
    # simulator, whose world is its map)
    saved_map_first: bool = False
    # HTTPS: the certificate chain and its private key (PEM files; both or neither). With
    # them the session cookie is sent over HTTPS only
    tls_cert: Path | str = ''
    tls_key: Path | str = ''

    @property
    def tls(self) -> tuple[str, str] | None:
        """(certificate, key) for HTTPS; None for plain HTTP."""
        return (str(self.tls_cert), str(self.tls_key)) if self.tls_cert else None

    def __post_init__(self) -> None:
        """Refuse settings that cannot work, in words."""
        if bool(str(self.tls_cert)) != bool(str(self.tls_key)):
            raise ValueError('HTTPS needs both tls_cert and tls_key (or neither)')
        if not 0 <= self.port <= 65535:
            raise ValueError(f'port {self.port} is not in 0..65535')
        if not (math.isfinite(self.session_hours) and self.session_hours > 0):
            raise ValueError('session_hours must be positive')
        if self.login_attempts_per_minute < 1:
            raise ValueError('login_attempts_per_minute must be at least 1')


class LoginBody(BaseModel):
    """``POST /api/login``'s body."""

    password: str = Field(max_length=1024)


class CommandBody(BaseModel):
    """``POST /api/command/{name}``'s optional body: the zone of ``start_zone`` (1-based)."""

    zone: int = Field(default=0, ge=0)


def _host_port(netloc: str, scheme: str) -> tuple[str, int] | None:
    """(host, port) of ``netloc`` with the scheme's default port; None when malformed."""
    try:
        parts = urlsplit(f'//{netloc}')
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), port if port is not None else (443 if scheme == 'https' else 80)


def same_origin(headers: Mapping[str, str]) -> bool:
    """True unless an ``Origin`` header names another host:port than the ``Host`` header.

    Browsers send ``Origin`` with every cross-site POST and every WebSocket; a client that sends
    none (curl, a script) is not a browser that another site could drive.
    """
    origin = headers.get('origin')
    if origin is None:
        return True
    parts = urlsplit(origin)
    host = headers.get('host')
    if parts.scheme not in ('http', 'https') or not parts.netloc or not host:
        return False
    theirs = _host_port(parts.netloc, parts.scheme)
    return theirs is not None and theirs == _host_port(host, parts.scheme)


def _error(status_code: int, text: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({'error': text}, status_code=status_code, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Every HTTP error as ``{"error": "..."}``."""
    status_code = getattr(exc, 'status_code', 500)
    detail = getattr(exc, 'detail', None)
    text = detail if isinstance(detail, str) and detail else 'error'
    if status_code == 404 and text == 'Not Found':
        text = f'nothing at {request.url.path}'
    return _error(status_code, text, getattr(exc, 'headers', None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A malformed body: 400 with the first problem in words."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if not errors:
        return _error(400, 'bad request')
    first = errors[0]
    if first.get('type') == 'json_invalid':
        return _error(400, 'bad request: the body is not valid JSON')
    where = '.'.join(str(p) for p in first.get('loc', ()) if p != 'body') or 'body'
    return _error(400, f'bad request: {where}: {first.get("msg", "invalid")}')


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every HTTP response; no caching of /api."""

    def __init__(self, app: Any) -> None:
        """Wrap the ASGI ``app``."""
        self.app = app
        self._headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        """Add the headers to the response's start message."""
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        extra = list(self._headers)
        if scope.get('path', '').startswith('/api/'):
            extra.append((b'cache-control', b'no-store'))
        names = {k for k, _ in extra}

        async def send_with_headers(message: dict) -> None:
            if message['type'] == 'http.response.start':
                kept = [(k, v) for k, v in message.get('headers', []) if k.lower() not in names]
                message = {**message, 'headers': kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Api:
    """The routes' handlers, around one operator, the sessions and the login limiter."""

    def __init__(
        self, operator: AppOperator, settings: AppSettings, clock: Callable[[], float]
    ) -> None:
        self.operator = operator
        self.settings = settings
        self.sessions = SessionStore(settings.session_hours * 3600.0, clock=clock)
        self.limiter = LoginLimiter(settings.login_attempts_per_minute, 60.0, clock=clock)

    # -- checks ----------------------------------------------------------------------------
    def _session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    @staticmethod
    def _same_origin(request: Request) -> None:
        if not same_origin(request.headers):
            raise HTTPException(403, 'cross-site request refused (Origin is not this app)')

    def _viewer(self, request: Request) -> None:
        if not self.settings.read_only_view and self._session(request) is None:
            raise HTTPException(401, 'log in first')

    def controller(self, request: Request) -> None:
        """Refuse a command without this origin (403), the session (401), its CSRF token (403)."""
        self._same_origin(request)
        session = self._session(request)
        if session is None:
            raise HTTPException(401, 'log in first')
        if not session.csrf_matches(request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f'missing or wrong {CSRF_HEADER} header: reload the page')

    # -- routes ----------------------------------------------------------------------------
    def login(self, request: Request, body: LoginBody) -> JSONResponse:
        """Log in with the owner password: a session cookie and the session's CSRF token.

        401 wrong password, 429 too many failures (Retry-After), 503 no password set yet.
        """
        self._same_origin(request)
        path = self.settings.password_file
        if not password_is_set(path):
            return _error(503, 'no owner password is set: set one with `mower app password`')
        client = request.client.host if request.client else 'unknown'
        wait_s = self.limiter.retry_after_s(client)
        if wait_s > 0:
            retry = str(max(1, math.ceil(wait_s)))
            return _error(
                429, f'too many failed logins: try again in {retry} s', {'Retry-After': retry}
            )
        try:
            ok = check_password(path, body.password)
        except PasswordNotSetError:
            return _error(503, 'no owner password is set: set one with `mower app password`')
        except PasswordError as exc:
            return _error(503, str(exc))
        if not ok:
            self.limiter.failure(client)
            return _error(401, 'wrong password')
        self.limiter.success(client)
        self.sessions.end(request.cookies.get(COOKIE))  # a login replaces the old session
        session = self.sessions.create()
        response = JSONResponse({'csrf': session.csrf})
        response.set_cookie(
            COOKIE,
            session.token,
            max_age=int(self.settings.session_hours * 3600),
            path='/',
            httponly=True,
            samesite='strict',
            secure=self.settings.tls is not None,  # over HTTPS: never sent in clear
        )
        return response

    def logout(self, request: Request) -> JSONResponse:
        """End this browser's session (if any)."""
        self._same_origin(request)
        self.sessions.end(request.cookies.get(COOKIE))
        response = JSONResponse({'authenticated': False})
        response.delete_cookie(COOKIE, path='/', httponly=True, samesite='strict')
        return response

    def session(self, request: Request) -> dict:
        """Whether this browser is logged in, whether the read-only view is on, the CSRF token."""
        session = self._session(request)
        return {
            'authenticated': session is not None,
            'read_only_view': self.settings.read_only_view,
            'csrf': session.csrf if session is not None else None,
        }

    def status(self, request: Request) -> dict:
        """The mower's status (state, battery, mowed share, pose, ...)."""
        self._viewer(request)
        return self.operator.status().as_dict()

    def map(self, request: Request) -> dict:
        """The lawn (GeoJSON, the map's metric frame) and the plan the mission follows."""
        self._viewer(request)
        version, points = self.operator.plan()
        return {
            'lawn': self.operator.lawn_geojson(),
            'plan': {'version': version, 'points': points},
        }

    def command(self, name: str, body: CommandBody | None = None) -> JSONResponse:
        """Send a command: start, start_zone (with ``zone``), pause, resume, dock, emergency_stop.

        400 unknown command or zone; 200 accepted; 409 refused by the mower (its reason). The
        route's dependency (:meth:`controller`) checks the session before the body is validated.
        """
        zone = body.zone if body is not None else 0
        why = check_command(name, zone, self.operator.status().zones)
        if why:
            return _error(400, why)
        accepted, message = self.operator.command(name, zone)
        return JSONResponse(
            {'accepted': bool(accepted), 'message': message}, status_code=200 if accepted else 409
        )

    # -- the live socket -------------------------------------------------------------------
    async def live(self, websocket: WebSocket) -> None:
        """Status (on change, at least every 0.5 s) and the plan (at connect, on a new version)."""
        token = websocket.cookies.get(COOKIE)
        if not same_origin(websocket.headers):
            await _refuse(websocket, CLOSE_FORBIDDEN, 'cross-site connection refused')
            return
        if not self._may_view(token):
            await _refuse(websocket, CLOSE_UNAUTHORISED, 'log in first')
            return
        await websocket.accept()
        reader = asyncio.create_task(_drain(websocket))
        try:
            await self._feed(websocket, token, reader)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away: nothing to clean up but the reader
        finally:
            reader.cancel()

    def _may_view(self, token: str | None) -> bool:
        return self.settings.read_only_view or self.sessions.get(token) is not None

    async def _feed(self, websocket: WebSocket, token: str | None, reader: asyncio.Task) -> None:
        loop = asyncio.get_running_loop()
        version: int | None = None
        last: dict | None = None
        sent_s = -math.inf
        while not reader.done():
            if not self._may_view(token):  # logged out or expired meanwhile
                await websocket.close(code=CLOSE_UNAUTHORISED, reason='the session ended')
                return
            status = self.operator.status().as_dict()
            if status != last or loop.time() - sent_s >= STATUS_EVERY_S:
                await websocket.send_json({'type': 'status', 'status': status})
                last, sent_s = status, loop.time()
            plan_version, points = self.operator.plan()
            if plan_version != version:
                plan = {'version': plan_version, 'points': points}
                await websocket.send_json({'type': 'plan', 'plan': plan})
                version = plan_version
            await asyncio.sleep(POLL_S)


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with ``code`` (a close before the handshake loses its code)."""
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it goes away."""
    while True:
        message = await websocket.receive()
        if message['type'] == 'websocket.disconnect':
            return


def create_app(
    operator: AppOperator,
    settings: AppSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    static_dir: Path = STATIC_DIR,
) -> FastAPI:
    """The app around ``operator``: the API under /api/, the page at /.

    ``clock`` (monotonic seconds) times sessions and the login limit.
    """
    settings = settings or AppSettings()
    api = _Api(operator, settings, clock)
    app = FastAPI(
        title='Mower',
        summary="The owner's app of the mower stack (local only).",
        description=(
            'Commands need the session cookie (POST /api/login) and its CSRF token in the '
            f'{CSRF_HEADER} header. Live state: WebSocket /api/live (messages '
            '{"type": "status", "status": {...}} and {"type": "plan", "plan": {...}}).'
        ),
        version='0.1.0',
        openapi_url='/api/openapi.json',
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: nothing may go out
        redoc_url=None,
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(HTTPException, _http_error)
    for code in (404, 405):  # the router's and the static files' own errors
        app.add_exception_handler(code, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

    app.add_api_route('/api/login', api.login, methods=['POST'], tags=['session'])
    app.add_api_route('/api/logout', api.logout, methods=['POST'], tags=['session'])
    app.add_api_route('/api/session', api.session, methods=['GET'], tags=['session'])
    app.add_api_route('/api/status', api.status, methods=['GET'], tags=['mower'])
    app.add_api_route('/api/map', api.map, methods=['GET'], tags=['mower'])
    app.add_api_route(
        '/api/command/{name}',
        api.command,
        methods=['POST'],
        tags=['mower'],
        dependencies=[Depends(api.controller)],  # before the body is validated
    )
    app.add_api_websocket_route('/api/live', api.live)
    app.state.maps = add_map_routes(app, api, settings.data_dir, settings.saved_map_first)
    app.state.schedule = add_schedule_routes(app, api)  # data_dir/schedule.json
    add_view_routes(app, api)  # the camera image, the mowed layer, the obstacles found
    add_teach_routes(app, api)  # teach mode: its requests and the joystick (the controller's)
    history = RunHistory(Path(settings.data_dir).expanduser() / 'history.jsonl')
    app.state.history = HistoryFeeder(history, operator)
    app.router.on_shutdown.append(app.state.history.stop)

    def runs(request: Request) -> dict:
        """The runs, newest first (date, duration, distance, mowed share, stops and why)."""
        api._viewer(request)
        return {'runs': history.runs()}

    app.add_api_route('/api/history', runs, methods=['GET'], tags=['mower'])
    app.mount('/', StaticFiles(directory=static_dir, html=True, check_dir=False), name='page')
    app.state.api = api  # for tests and the server: the sessions and the limiter
    return app
