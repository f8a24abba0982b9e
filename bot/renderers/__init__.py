"""How the outbox worker turns a queued ``{render, ref}`` into a Slack message."""
