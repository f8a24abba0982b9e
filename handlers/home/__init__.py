"""The App Home tab: published when someone opens it and after each click made in it.

``app_home_opened`` (subscribed in ``manifest.yml``) publishes the tab with
``views.publish``. Its buttons are the review message's, answered by the same handlers in
``handlers.actions``; a click from the tab carries ``view`` and no channel, message or
response_url, so those handlers are wrapped by ``republishing``: after the click the tab is
published again (the claimed review gone from it), and a refusal that could not be said
ephemerally is shown at the top of the tab instead.
"""

from __future__ import annotations

from handlers.home.publishing import (
    handle_app_home_opened,
    is_home_click,
    publish_home,
    register,
    republishing,
)

__all__ = ["handle_app_home_opened", "is_home_click", "publish_home", "register", "republishing"]
