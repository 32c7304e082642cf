"""launch.events (double)."""


def matches_action(target_action):
    """A matcher for one action (kept for the evaluator)."""

    def matcher(action) -> bool:
        return action is target_action

    matcher.target = target_action
    return matcher
