"""``handrail demo``: scripted automations that show the whole review loop on a live Handrail.

Each scenario plays one automation of the example workflows through the Python client, as
a real one would: a draft reply for approval, a low-confidence case, a stop-topic hit, a
model that keeps timing out (retries, a handoff with the context, a parked job), repeated
errors that raise an alert, and a shadow-mode case. Then the demo long-polls for the
decisions people make in Slack (or the local Slack page) and acts on each, saying what it
does, so the loop is seen to close. It needs nothing set up: it makes its own short-lived
workflow tokens (labelled ``demo``) in the configured database.

The scenarios import the client; ``bot.demo.runner`` is imported only when the demo runs,
so the CLI loads where the server is installed without it.
"""

from __future__ import annotations
