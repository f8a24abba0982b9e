"""Request IDs made safe to store: redacted, yet still one key per request.

A request ID is stored as the ID of the step it caused, and a retried request finds its
first answer by it. Replacing a secret in it by a placeholder alone would make two IDs
that differ only in their secret one key (the second request would get the first one's
answer); keeping the secret would store it. So an ID with something to redact is stored
as its redacted text and a digest of the whole ID: the same ID always gives the same key,
different IDs different keys. The digest is scrypt's, salted with the run ID, so a short
password inside an ID cannot be found from it by trying candidates quickly. An ID with
nothing to redact is stored as sent, as it always was.
"""

from __future__ import annotations

import hashlib
from typing import Final

from workflows.redaction.redactor import Redactor, fit

#: The redacted text kept of an ID; with its digest it stays within a step ID's 128 chars.
REDACTED_MAX: Final = 96
_DIGEST_BYTES: Final = 8
_SCRYPT_COST: Final = 2**13  # 8 MiB and some milliseconds, paid only for IDs with a secret


def stored_request_id(redactor: Redactor, request_id: str, *, run_id: str) -> str:
    """The key ``request_id`` is stored and looked up under for the run ``run_id``."""
    redacted = redactor.redact(request_id).value
    if redacted == request_id:
        return request_id
    digest = hashlib.scrypt(
        request_id.encode(), salt=run_id.encode(), n=_SCRYPT_COST, r=8, p=1, dklen=_DIGEST_BYTES
    )
    return f"{fit(str(redacted), REDACTED_MAX)}#{digest.hex()}"
