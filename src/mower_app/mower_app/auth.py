"""The owner's password, sessions and the login rate limit (no web framework, no ROS).

- The password is stored hashed with scrypt (a random salt; the cost parameters stored beside
  the hash, so that they may be raised later without breaking a stored password) in a small JSON
  file, written atomically and readable by its owner only (mode 0600).
- A session is a random token (the ``mower_session`` cookie) kept on the server with its expiry
  and its own CSRF token, which the page sends back in a header with every command.
- :class:`LoginLimiter` counts failed logins per client address in a sliding window.

Every time-dependent object takes a ``clock`` (monotonic seconds) so that tests need not wait.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Shortest password accepted (characters).
MIN_PASSWORD_CHARS = 8
#: scrypt's cost: N (CPU and memory), r (block size), p (parallelism); 16 MiB, ~50 ms a check.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
_SCHEME = 'scrypt'


def default_password_file() -> Path:
    """Where ``mower app password`` writes and the app reads: ~/.config/mower/."""
    return Path('~/.config/mower/app_password.json').expanduser()


class PasswordError(ValueError):
    """A password that may not be set, or a password file that cannot be read (in words)."""


class PasswordNotSetError(PasswordError):
    """No password file yet: the app refuses every login until the owner sets one."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode('ascii')


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024  # what scrypt needs, and some room
    return hashlib.scrypt(
        password.encode('utf-8'), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen
    )


def hash_password(password: str, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> dict:
    """The stored form of ``password``: scheme, cost parameters, salt and hash (JSON-able)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, n, r, p, KEY_BYTES)
    return {'scheme': _SCHEME, 'n': n, 'r': r, 'p': p, 'salt': _b64(salt), 'hash': _b64(key)}


def verify_password(record: dict, password: str) -> bool:
    """Whether ``password`` matches the stored ``record`` (a constant-time comparison)."""
    if record.get('scheme') != _SCHEME:
        raise PasswordError(f'unknown password scheme {record.get("scheme")!r}: set it again')
    try:
        salt = base64.b64decode(record['salt'], validate=True)
        want = base64.b64decode(record['hash'], validate=True)
        n, r, p = int(record['n']), int(record['r']), int(record['p'])
        got = _scrypt(password, salt, n, r, p, len(want))
    except (KeyError, TypeError, ValueError) as exc:
        raise PasswordError(
            f'the password file is damaged ({exc}): set the password again'
        ) from exc
    return hmac.compare_digest(got, want)


def set_password(path: Path | str, password: str) -> None:
    """Store ``password`` hashed in ``path`` (written atomically, mode 0600).

    Raises :class:`PasswordError` for a password shorter than :data:`MIN_PASSWORD_CHARS`.
    """
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordError(f'the password needs at least {MIN_PASSWORD_CHARS} characters')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = json.dumps(hash_password(password)) + '\n'
    fd, tmp = tempfile.mkstemp(prefix='.' + path.name, suffix='.tmp', dir=path.parent)
    try:  # mkstemp creates the file with mode 0600
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def password_is_set(path: Path | str) -> bool:
    """Whether a password file exists at ``path``."""
    return Path(path).is_file()


def check_password(path: Path | str, password: str) -> bool:
    """Whether ``password`` is the owner's.

    Raises :class:`PasswordNotSetError` when there is no password file, :class:`PasswordError` when
    it cannot be read.
    """
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding='utf-8'))
    except FileNotFoundError as exc:
        raise PasswordNotSetError(
            f'no owner password is set ({path}): set one with `mower app password`'
        ) from exc
    except (OSError, ValueError) as exc:
        raise PasswordError(f'cannot read the password file {path}: {exc}') from exc
    if not isinstance(record, dict):
        raise PasswordError(f'the password file {path} is damaged: set the password again')
    return verify_password(record, password)


@dataclass(frozen=True)
class Session:
    """One logged-in browser: its cookie token, its CSRF token and when it ends (clock s)."""

    token: str
    csrf: str
    expires_s: float

    def csrf_matches(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is this session's CSRF token (constant-time)."""
        return candidate is not None and hmac.compare_digest(
            candidate.encode('utf-8'), self.csrf.encode('utf-8')
        )


def _key(token: str) -> str:
    # sessions are looked up by a digest of the token: no timing of the dict's comparison
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class SessionStore:
    """Server-side sessions with a fixed lifetime; thread-safe.

    At most ``max_sessions`` live at once (the oldest is dropped for a new one).
    """

    def __init__(
        self,
        lifetime_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = 64,
    ) -> None:
        """``lifetime_s``: how long a session lasts after login."""
        if lifetime_s <= 0:
            raise ValueError('a session needs a positive lifetime')
        self.lifetime_s = lifetime_s
        self.clock = clock
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> Session:
        """A new session (after a successful login)."""
        session = Session(
            token=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            expires_s=self.clock() + self.lifetime_s,
        )
        with self._lock:
            self._prune()
            while len(self._sessions) >= self.max_sessions:
                del self._sessions[next(iter(self._sessions))]  # the oldest
            self._sessions[_key(session.token)] = session
        return session

    def get(self, token: str | None) -> Session | None:
        """The live session of cookie ``token``, or None (unknown or expired)."""
        if not token:
            return None
        with self._lock:
            key = _key(token)
            session = self._sessions.get(key)
            if session is not None and session.expires_s <= self.clock():
                del self._sessions[key]
                return None
            return session

    def end(self, token: str | None) -> None:
        """End the session of ``token`` (logout); nothing if there is none."""
        if token:
            with self._lock:
                self._sessions.pop(_key(token), None)

    def __len__(self) -> int:
        """How many sessions are live."""
        with self._lock:
            self._prune()
            return len(self._sessions)

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, s in self._sessions.items() if s.expires_s <= now]:
            del self._sessions[key]


class LoginLimiter:
    """At most ``attempts`` failed logins per client address in ``window_s``; thread-safe.

    A client over the limit waits until its oldest failure leaves the window; a successful
    login clears its failures.
    """

    def __init__(
        self,
        attempts: int = 5,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 1024,
    ) -> None:
        """``attempts`` failures in ``window_s`` seconds block the client."""
        if attempts < 1 or window_s <= 0:
            raise ValueError('the login limit needs attempts >= 1 and a positive window')
        self.attempts = attempts
        self.window_s = window_s
        self.clock = clock
        self.max_clients = max_clients
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after_s(self, client: str) -> float:
        """0 when ``client`` may try to log in now, else how many seconds until it may."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.attempts:
                return 0.0
            return max(times[-self.attempts] + self.window_s - self.clock(), 0.0)

    def failure(self, client: str) -> None:
        """Count a failed login of ``client``."""
        with self._lock:
            if client not in self._failures and len(self._failures) >= self.max_clients:
                self._forget_stale()
            times = self._failures.setdefault(client, collections.deque(maxlen=self.attempts))
            times.append(self.clock())

    def success(self, client: str) -> None:
        """A successful login: forget ``client``'s failures."""
        with self._lock:
            self._failures.pop(client, None)

    def _recent(self, client: str) -> collections.deque[float]:
        times = self._failures.get(client, collections.deque())
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def _forget_stale(self) -> None:
        cutoff = self.clock() - self.window_s
        for client in [c for c, t in self._failures.items() if not t or t[-1] <= cutoff]:
            del self._failures[client]
        while len(self._failures) >= self.max_clients:  # still full: drop the oldest client
            del self._failures[next(iter(self._failures))]
