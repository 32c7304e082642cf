"""``mower app password``: asked twice or read from stdin, stored hashed, mode 0600."""

from __future__ import annotations

import io
import stat

from mower_app.auth import check_password
from mower_cli.main import main


def test_password_from_stdin(tmp_path, monkeypatch, capsys):
    path = tmp_path / 'pw.json'
    monkeypatch.setattr('sys.stdin', io.StringIO('green grass 42\nignored\n'))
    assert main(['app', 'password', '--stdin', '--file', str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    assert check_password(path, 'green grass 42')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert 'green grass' not in path.read_text()

    monkeypatch.setattr('sys.stdin', io.StringIO('short\n'))
    assert main(['app', 'password', '--stdin', '--file', str(path)]) == 1
    assert 'at least 8 characters' in capsys.readouterr().err
    assert check_password(path, 'green grass 42')  # unchanged


def test_password_asked_twice_in_the_default_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv('HOME', str(tmp_path))
    answers = iter(['mow the lawn', 'mow the lawn'])
    monkeypatch.setattr('getpass.getpass', lambda prompt='': next(answers))
    assert main(['app', 'password']) == 0
    path = tmp_path / '.config' / 'mower' / 'app_password.json'
    assert check_password(path, 'mow the lawn')

    answers = iter(['a new password', 'a new passw0rd'])
    assert main(['app', 'password']) == 1
    assert 'differ' in capsys.readouterr().err
    assert check_password(path, 'mow the lawn')
