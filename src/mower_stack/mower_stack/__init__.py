"""The whole stack composed in simulated time: the closed loop and full mowing runs."""
