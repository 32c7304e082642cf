"""The owner's app, served by the robot on the local network (nothing reaches the internet).

- :mod:`mower_app.auth`: the owner password (scrypt), sessions, the login rate limit;
- :mod:`mower_app.server`: :func:`~mower_app.server.create_app`, the JSON API, the live
  WebSocket and the page, over the operator interface (``mower_control.operator``);
- :mod:`mower_app.serve`: :class:`~mower_app.serve.AppServer`, uvicorn in a background thread.
"""
