"""The bolt app and its serving: request shape checks, listener tasks, the usergroup directory."""
