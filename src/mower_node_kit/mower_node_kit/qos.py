"""The QoS profile the nodes share for latched topics (plans, maps: the last one counts).

``LATCHED``: keep the last message, reliable, transient local; a subscriber that comes later
still gets it. Publisher and subscriber of such a topic must both use it.
"""

from __future__ import annotations

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
