"""Redaction of secrets and personal data before anything is stored.

Every string Handrail keeps from an automation (event inputs and outputs, errors, prompts,
metadata) passes through a :class:`Redactor` first, so the ledger can be read, exported and
quoted in Slack without leaking the credentials and personal data that automations log.

Secrets are always redacted. Personal-data kinds and custom patterns are opted into per
workflow through :class:`RedactionPolicy`, because some workflows are *about* an email
address or a phone number and their reviewers need to see it.

Each match becomes ``[REDACTED:<kind>]`` and is counted under its kind; counts never carry
values. Every detector looks at the original string, then the matches are resolved by
precedence, so one secret is replaced and counted once, under its most specific kind; a
match that overlaps one of higher precedence is dropped:

1. text already reading ``[REDACTED:...]``, so redacting twice changes nothing;
2. ``private_key``: a whole PEM block, whatever it contains;
3. formats that name themselves: ``slack_webhook``; the vendors' prefixed keys
   (``anthropic_key``, ``gitlab_token``, ``sendgrid_key``, ``huggingface_token``,
   ``pypi_token``, ``npm_token``, ``twilio_key``, ``mailgun_key``, ``mailchimp_key``,
   ``shopify_token``, ``square_token``, ``digitalocean_token``, ``vault_token``,
   ``grafana_token``, ``linear_key``, ``postman_key``, ``newrelic_key``,
   ``databricks_token``, ``atlassian_token``, ``doppler_token``, ``discord_webhook``,
   ``telegram_token``, and age keys as ``private_key``), ``jwt``, ``github_token``,
   ``slack_token``, ``openai_key``, ``stripe_key``, ``google_api_key``,
   ``aws_access_key``, ``aws_secret_key``;
4. secrets known by their context: ``authorization`` (after ``Bearer``/``Basic``, or in
   an ``Authorization:`` header whatever its scheme),
   ``url_password`` (``scheme://user:password@host``), ``azure_storage_key``
   (``AccountKey=``, ``SharedAccessKey=``, a SAS ``sig=``), ``datadog_key`` (after
   ``DD_API_KEY=`` or a ``DD-API-KEY`` header), ``cookie`` (a ``Cookie`` header's value,
   a ``Set-Cookie`` one's first value), ``cli_password`` (``--password X``, ``--token=X``,
   and short flags only where the command makes them a password: mysql's glued ``-pX``,
   ``sshpass -p X``, ``redis-cli -a X``, ``curl -u user:X``; never ``-p 8080``) and
   ``secret_field`` (a JSON field written as text whose key names a secret, judged as a
   dict key is; after a label such as ``password=`` or its URL-encoded ``password%3D``:
   a quoted value to its closing quote, a bare password to the end of its phrase), so
   ``Bearer eyJ...`` counts as one ``jwt``;
5. personal data, when on: ``iban`` and ``card_number`` (checksums verified), ``email``,
   ``phone``;
6. custom patterns, in the order configured.

Dict values under a key named like a secret (``password``, ``api_key``, ``clientSecret``,
``Authorization``...) are replaced whole, as ``secret_field``, whatever they look like; so
is the ``value`` of a name/value pair whose name is such a key (``{"name": "Authorization",
"value": ...}``, the shape of logged headers and environment variables).

This runs on the hot ingestion path, so a :class:`Redactor` compiles everything once per
workflow and a regex runs only after cheap checks pass: a minimum length, a character the
kind cannot do without (one set operation rules out most short strings), a literal such as
``"AKIA"``, an anchor word such as ``bearer``, or a long enough run of digits. Dict keys
and short values repeat from event to event, so those found clean are remembered. Custom
patterns have no such checks and run on every string: keep them simple.

The modules: ``detectors`` holds the precedence table and its regexes, ``checks`` the
checks that accept or narrow a match (card issuer and Luhn, IBAN mod-97...),
``contexts`` those that read around it (the command a flag belongs to, a JSON key), ``keys``
which dict keys name a secret, ``policy`` what a workflow opts into, and ``redactor`` the
walk and the resolution of matches.
"""

from __future__ import annotations

from workflows.redaction.checks import Check, Span
from workflows.redaction.detectors import BUILTIN_KINDS, SECRET_FIELD
from workflows.redaction.keys import is_secret_key
from workflows.redaction.policy import PERSONAL_KINDS, RedactionPolicy, validate_custom_pattern
from workflows.redaction.redactor import Groups, Ranked, Redacted, Redactor, fit, placeholder
from workflows.redaction.request_ids import stored_request_id

__all__ = [
    "BUILTIN_KINDS",
    "PERSONAL_KINDS",
    "SECRET_FIELD",
    "Check",
    "Groups",
    "Ranked",
    "Redacted",
    "RedactionPolicy",
    "Redactor",
    "Span",
    "fit",
    "is_secret_key",
    "placeholder",
    "stored_request_id",
    "validate_custom_pattern",
]
