"""Where the client finds Handrail when the code does not say: ``HANDRAIL_URL`` and
``HANDRAIL_TOKEN``.

An automation is usually configured through its environment (a container, a CI secret, a
``.env`` file), so ``HandrailClient()`` with no arguments reads both variables. A missing
value is an error naming both the argument and the variable, raised before any request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from handrail_client.errors import MissingConfiguration

URL_VARIABLE = "HANDRAIL_URL"
TOKEN_VARIABLE = "HANDRAIL_TOKEN"  # noqa: S105 - a variable name, not a secret


def resolve_connection(
    base_url: str | None,
    token: str | None,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """The server URL and token: the arguments given, else the environment's."""
    env = os.environ if environ is None else environ
    url = base_url or env.get(URL_VARIABLE, "").strip()
    secret = token or env.get(TOKEN_VARIABLE, "").strip()
    missing = [
        f"{name} (or {argument}=)"
        for name, argument, value in (
            (URL_VARIABLE, "base_url", url),
            (TOKEN_VARIABLE, "token", secret),
        )
        if not value
    ]
    if missing:
        raise MissingConfiguration(
            "Handrail needs a server URL and a token: set HANDRAIL_URL and HANDRAIL_TOKEN, "
            f"or pass base_url= and token=; missing: {', '.join(missing)}"
        )
    return url, secret
