"""On-call alerts: rules that watch each workflow, and the lifecycle of what they raise.

``tick.evaluate_alerts`` runs every 30 seconds (``bot/scheduler.py``): the rules in
``event_rules``, ``stale`` and ``tokens`` read their window and report findings;
``lifecycle`` turns them into alert rows and outbox rows. ``actions`` holds what people do
from Slack (acknowledge, snooze, resolve); ``views`` what the messages show. Nothing here
imports Slack: messages are rendered from the rows by ``bot/renderers/alerts.py``.
"""
