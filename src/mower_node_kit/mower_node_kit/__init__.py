"""The kit the rclpy nodes share (adapters only: no algorithm lives here).

:mod:`mower_node_kit.main`: the one ``main()`` of every node, with a clean shutdown on SIGINT
and SIGTERM. :mod:`mower_node_kit.params`: parameters declared once, from a core dataclass's
field metadata (description and range) and a node's own table, checked in the core and declared
by the node (ROS-free to import: the cores use it). :mod:`mower_node_kit.qos`: ``LATCHED``, the
profile of latched topics. :mod:`mower_node_kit.diagnostics`: the DiagnosticStatus and
``/diagnostics`` builders.
"""
