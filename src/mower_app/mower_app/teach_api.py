"""Teach mode in the app: the teach requests and the on-screen joystick.

Routes (added to the app by :func:`add_teach_routes`), all with the controller's rights
(session, CSRF token, same origin), as the commands:

- ``POST /api/teach/drive`` ``{"linear": m/s, "angular": rad/s}``: the joystick. The page sends
  it about ten times a second while the stick is held and a zero when it is let go; each one
  drives for at most the deadman time, then the wheels stop. Taken only while the mission is
  TEACHING, clamped to the joystick's top speeds
  (:class:`mower_control.teach_control.TeachDrive`);
- ``POST /api/teach/{name}``: a teach request (``start``, ``boundary``, ``keepout``,
  ``navigation``, ``dock``, ``undo``, ``finish``, ``cancel``: the mission's ``teach/*``).

Both answer ``{"accepted": bool, "message": "..."}``: 200 accepted, 409 refused by the mower
(its reason); 400 an unknown request or a malformed body; 501 when the mower has no teach mode
(an operator without :class:`~mower_control.teach_control.TeachControl`). The rules are the
operator's (``mower_control.teach_control``); this only carries them.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mower_control.teach_control import TEACH_NAMES, TeachControl, check_teach

#: What the OpenAPI document says of the answers.
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        'description': 'accepted: {"accepted": true, "message": "..."}',
        'content': {
            'application/json': {'example': {'accepted': True, 'message': 'recording boundary 1'}}
        },
    },
    400: {'description': 'an unknown request or a malformed body: {"error": "..."}'},
    401: {'description': 'not logged in'},
    403: {'description': 'another origin, or no CSRF token'},
    409: {
        'description': 'refused by the mower: {"accepted": false, "message": why}',
        'content': {
            'application/json': {
                'example': {'accepted': False, 'message': 'not teaching (IDLE): ...'}
            }
        },
    },
    501: {'description': 'this mower has no teach mode'},
}


class DriveBody(BaseModel):
    """``POST /api/teach/drive``'s body: the joystick's command."""

    model_config = ConfigDict(extra='forbid')

    linear: float = Field(allow_inf_nan=False, description='speed, m/s (negative: backwards)')
    angular: float = Field(allow_inf_nan=False, description='turn rate, rad/s (positive: left)')


def _answer(accepted: bool, message: str) -> JSONResponse:
    return JSONResponse(
        {'accepted': bool(accepted), 'message': message}, status_code=200 if accepted else 409
    )


def _error(status: int, text: str) -> JSONResponse:
    return JSONResponse({'error': text}, status_code=status)


class TeachApi:
    """The teach routes' handlers around the app's operator."""

    def __init__(self, api: Any) -> None:
        """``api``: the app's handlers (their checks and the operator)."""
        operator = api.operator
        self.control: TeachControl | None = (
            operator if isinstance(operator, TeachControl) else None
        )

    def request(self, name: str) -> JSONResponse:
        """A teach request to the mission; its answer."""
        if self.control is None:
            return _error(501, 'this mower has no teach mode')
        why = check_teach(name)
        if why:
            return _error(400, why)
        return _answer(*self.control.teach(name))

    def drive(self, body: DriveBody) -> JSONResponse:
        """The joystick's command; the answer says what the wheels were told."""
        if self.control is None:
            return _error(501, 'this mower has no teach mode')
        return _answer(*self.control.drive(body.linear, body.angular))


def add_teach_routes(app: FastAPI, api: Any) -> TeachApi:
    """Add the teach routes (the drive route first: ``drive`` is no teach request)."""
    handlers = TeachApi(api)
    controller = [Depends(api.controller)]  # before the body is validated
    app.add_api_route(
        '/api/teach/drive',
        handlers.drive,
        methods=['POST'],
        tags=['teach'],
        summary='Drive with the joystick while teaching',
        description=(
            'Send about ten a second while the stick is held and a zero when it is let go: '
            'each command holds for at most the deadman time (0.5 s by default), then the '
            'wheels stop. Only while the mission is TEACHING; clamped to the top speeds.'
        ),
        responses=ANSWERS,
        dependencies=controller,
    )
    app.add_api_route(
        '/api/teach/{name}',
        handlers.request,
        methods=['POST'],
        tags=['teach'],
        summary='A teach-mode request',
        description=(
            "One of the mission's teach requests: "
            + ', '.join(f'`{name}`' for name in TEACH_NAMES)
            + '. `start` (from IDLE or CHARGING) enters TEACHING; `boundary`, `keepout` and '
            '`navigation` start recording one (drive its edge round); `dock` marks the dock '
            'where the mower stands; `undo` takes the last recording back; `finish` builds '
            'the draft map (its faults, if any, in the message); `cancel` ends the session '
            'without one.'
        ),
        responses=ANSWERS,
        dependencies=controller,
    )
    return handlers
