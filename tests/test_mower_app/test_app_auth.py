"""The owner password (scrypt, file mode 0600), sessions and the login limiter, on a fake clock."""

from __future__ import annotations

import json
import stat

import pytest
from app_fakes import Clock

from mower_app.auth import (
    MIN_PASSWORD_CHARS,
    LoginLimiter,
    PasswordError,
    PasswordNotSetError,
    SessionStore,
    check_password,
    hash_password,
    password_is_set,
    set_password,
    verify_password,
)


def test_the_password_file_holds_a_salted_hash_readable_by_its_owner_only(tmp_path):
    path = tmp_path / 'config' / 'app_password.json'
    assert not password_is_set(path)
    set_password(path, 'my lawn, my rules')
    assert password_is_set(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert 'my lawn' not in text and 'rules' not in text
    record = json.loads(text)
    assert record['scheme'] == 'scrypt' and record['n'] >= 2**14 and record['r'] and record['p']
    assert check_password(path, 'my lawn, my rules')
    assert not check_password(path, 'my lawn, my rules ')
    assert not check_password(path, '')
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    set_password(path, 'my lawn, my rules')  # the same password: a new salt, a new hash
    again = json.loads(path.read_text())
    assert again['salt'] != record['salt'] and again['hash'] != record['hash']
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_short_password_is_refused_and_the_old_one_stays(tmp_path):
    path = tmp_path / 'pw.json'
    set_password(path, 'first password')
    with pytest.raises(PasswordError, match=f'at least {MIN_PASSWORD_CHARS} characters'):
        set_password(path, 'x' * (MIN_PASSWORD_CHARS - 1))
    assert check_password(path, 'first password')
    set_password(path, 'y' * MIN_PASSWORD_CHARS)
    assert check_password(path, 'y' * MIN_PASSWORD_CHARS)


def test_the_stored_parameters_are_the_ones_checked():
    record = hash_password('cheap to test', n=2**10, r=4, p=1)
    assert (record['n'], record['r'], record['p']) == (2**10, 4, 1)
    assert verify_password(record, 'cheap to test')
    assert not verify_password(record, 'cheap to tesT')


def test_no_file_or_a_damaged_file_is_said_in_words(tmp_path):
    path = tmp_path / 'pw.json'
    with pytest.raises(PasswordNotSetError, match='mower app password'):
        check_password(path, 'whatever1')
    path.write_text('{"scheme": "scrypt", "n": 16384}')
    with pytest.raises(PasswordError, match='damaged'):
        check_password(path, 'whatever1')
    path.write_text('not json')
    with pytest.raises(PasswordError, match='cannot read'):
        check_password(path, 'whatever1')
    path.write_text('{"scheme": "md5"}')
    with pytest.raises(PasswordError, match='unknown password scheme'):
        check_password(path, 'whatever1')


def test_sessions_expire_end_and_are_bounded():
    clock = Clock()
    store = SessionStore(lifetime_s=3600.0, clock=clock, max_sessions=3)
    a = store.create()
    assert a.token != a.csrf and len(a.token) >= 40
    assert store.get(a.token) == a
    assert store.get(None) is None and store.get('') is None and store.get('forged') is None
    assert a.csrf_matches(a.csrf)
    assert not a.csrf_matches(None) and not a.csrf_matches('') and not a.csrf_matches('x')

    clock.t += 3599.0
    assert store.get(a.token) == a
    clock.t += 1.0
    assert store.get(a.token) is None  # expired

    b, c, d = store.create(), store.create(), store.create()
    store.create()  # a fourth: the oldest (b) is dropped
    assert store.get(b.token) is None and store.get(c.token) == c and len(store) == 3
    store.end(c.token)
    store.end('unknown')
    store.end(None)
    assert store.get(c.token) is None and store.get(d.token) == d
    with pytest.raises(ValueError):
        SessionStore(lifetime_s=0.0)


def test_the_login_limiter_blocks_a_client_for_the_rest_of_the_minute():
    clock = Clock()
    limiter = LoginLimiter(attempts=5, window_s=60.0, clock=clock)
    for _ in range(4):
        assert limiter.retry_after_s('10.0.0.7') == 0.0
        limiter.failure('10.0.0.7')
        clock.t += 1.0
    assert limiter.retry_after_s('10.0.0.7') == 0.0
    limiter.failure('10.0.0.7')  # the fifth failure, at t0 + 4 s
    assert limiter.retry_after_s('10.0.0.7') == pytest.approx(56.0)  # the first leaves at 60 s
    assert limiter.retry_after_s('10.0.0.8') == 0.0  # another client is not blocked
    clock.t += 55.0
    assert limiter.retry_after_s('10.0.0.7') == pytest.approx(1.0)
    clock.t += 1.0
    assert limiter.retry_after_s('10.0.0.7') == 0.0  # a sliding window: one failure left it
    limiter.failure('10.0.0.7')
    assert limiter.retry_after_s('10.0.0.7') > 0.0
    limiter.success('10.0.0.7')  # a good login forgets the failures
    assert limiter.retry_after_s('10.0.0.7') == 0.0


def test_the_limiter_remembers_a_bounded_number_of_clients():
    clock = Clock()
    limiter = LoginLimiter(attempts=2, window_s=60.0, clock=clock, max_clients=3)
    for client in ('a', 'b', 'c'):
        limiter.failure(client)
        limiter.failure(client)
    limiter.failure('d')  # full of live clients: the oldest is forgotten
    assert limiter.retry_after_s('a') == 0.0
    assert limiter.retry_after_s('b') > 0.0 and limiter.retry_after_s('c') > 0.0
    with pytest.raises(ValueError):
        LoginLimiter(attempts=0)
