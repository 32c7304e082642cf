"""app_node's parameters, ROS-free: how the app is served, and what it listens to.

:class:`AppParams` holds the fields of :class:`~mower_app.server.AppSettings` as node parameters
(described and ranged once, in the field metadata) and builds the settings
(:meth:`AppParams.settings`); :data:`NODE_PARAMETERS` are the node's own. app_node declares both;
the config check (``mower_control.parameters``) reads them without ROS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mower_node_kit.params import check_ranges, param

if TYPE_CHECKING:
    from mower_app.server import AppSettings


@dataclass(frozen=True)
class AppParams:
    """app_node's serving parameters (the fields of AppSettings of the same names)."""

    host: str = param('127.0.0.1', "the address to listen on ('0.0.0.0': every one, the LAN)")
    port: int = param(8080, 'TCP port of the app (0: any free port)', 0, 65535)
    password_file: str = param(
        '~/.config/mower/app_password.json',
        "the owner's password (hashed; set it with `mower app password --file`)",
    )
    read_only_view: bool = param(False, 'status, map and live view without login (not commands)')
    session_hours: float = param(12.0, 'a login lasts this long (h)', 0.01, 8760.0)
    login_attempts_per_minute: int = param(
        5, 'failed logins per client address and minute, then HTTP 429', 1, 1000
    )
    tls_cert: str = param('', "HTTPS: the certificate chain, PEM ('': plain HTTP)")
    tls_key: str = param('', "HTTPS: the certificate's private key, PEM ('': plain HTTP)")

    def __post_init__(self) -> None:
        """Types and ranges checked (ConfigError naming the key and the value)."""
        check_ranges(self)

    def settings(self) -> AppSettings:
        """The app's settings (``~`` in ``password_file`` expanded)."""
        from mower_app.server import AppSettings

        return AppSettings(
            host=self.host,
            port=self.port,
            password_file=Path(self.password_file).expanduser(),
            read_only_view=self.read_only_view,
            session_hours=self.session_hours,
            login_attempts_per_minute=self.login_attempts_per_minute,
            tls_cert=Path(self.tls_cert).expanduser() if self.tls_cert else '',
            tls_key=Path(self.tls_key).expanduser() if self.tls_key else '',
        )


#: app_node's own parameters: name -> (default, description[, low, high])
NODE_PARAMETERS: dict[str, tuple[Any, ...]] = {
    'map_file': ('', "the lawn map the app draws, and its zones ('': no map)"),
    'pose_topic': ('odom', 'nav_msgs/Odometry of base_link in the map frame'),
    'poll_s': (0.1, 'how often queued commands are carried out (s)', 0.01, 10.0),
}
