"""Off the live robot: simulated whole runs, field-bag replay, learning the owner's lawn.

The stack in simulated time (closed loop, whole runs, reports), the replay of field bags and
adapt, all built on the same core objects as the nodes.
"""
