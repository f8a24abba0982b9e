"""The built-in detectors, one per kind, in precedence order.

Each :class:`Detector` pairs a kind's regex with the check that accepts or narrows a match
(see ``checks``) and with the cheap tests that decide whether the regex runs at all. The
order of ``BUILTIN`` is the precedence explained in the package docstring: when matches
overlap, the one from the earlier detector is kept.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Final

from workflows.redaction import checks, contexts
from workflows.redaction.checks import Check

SECRET_FIELD: Final = "secret_field"  # noqa: S105 - the name of a kind, not a secret
DIGITS: Final = "0123456789"


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind: its regex, and the cheap checks that decide where to run it, if at all."""

    kind: str
    pattern: re.Pattern[str]
    check: Check = checks.whole
    needs: str = ""  # one of these characters must occur ("" = no such check)
    triggers: tuple[str, ...] = ()  # one of these literals must occur
    anchors: tuple[str, ...] = ()  # match only where one of these occurs, in any case
    shape: bytes | None = None  # a table from _shape: matches are runs of certain chars
    min_len: int = 1
    kinds: tuple[str, ...] = ()  # when set, a match's kind is the name of its group
    run_on: bool = False  # a match may run past spaces, so it is cut at a kept match


def _shape(chars: str) -> bytes:
    """Make a ``bytes.translate`` table that turns ``chars`` into "9" and the rest into "x".

    A string whose translation has no run of nines as long as a kind's shortest match
    cannot hold one, and bytes.translate tells that far sooner than a regex scan does.
    """
    return bytes(57 if chr(byte) in chars else 120 for byte in range(256))


# Where a regex starts with a literal the engine skips ahead fast; character classes and
# case-insensitive alternations cost far more, so those kinds are tried only at anchor
# words, or once bytes.translate shows a run long enough to hold them.
_LABEL: Final = r"[\"']?[ \t]*(?:[:=]|=>)[ \t]*[\"']?"
_PRIVATE_KEY: Final = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"  # a cut-off key goes too
)
_WEBHOOK: Final = re.compile(
    r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{8,}"
)
# The lookbehind follows "eyJ" so the literal still leads the search, and the search does
# not restart inside a long run that has no dots (that was quadratic).
_JWT: Final = re.compile(
    r"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
)
_GITHUB: Final = re.compile(
    r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{30,})(?![A-Za-z0-9])"
)
_SLACK_TOKEN: Final = re.compile(r"(?:xox[abeprs]|xapp)-[0-9][A-Za-z0-9-]{8,}")
_OPENAI: Final = re.compile(r"sk-(?:(?:proj|ant|svcacct|admin)-)?(?P<body>[A-Za-z0-9_-]{20,})")
_STRIPE: Final = re.compile(
    r"(?:[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,})(?![A-Za-z0-9])"
)
_GOOGLE: Final = re.compile(r"AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])")
_AWS_ACCESS: Final = re.compile(r"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_AWS_SECRET: Final = re.compile(
    r"(?i:secret[_.-]?(?:access[_.-]?)?key)"
    + _LABEL
    + r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)
_AUTH_HEADER: Final = re.compile(
    r"(?i:authorization)"
    + _LABEL
    + r"(?:(?P<scheme>(?i:bearer|basic|token|digest|negotiate|ntlm|bot|apikey|key|ssws|oauth|"
    r"aws4-hmac-sha256))[ \t]+)?(?P<secret>[^\s\"'`]+)"
)
_AUTH: Final = re.compile(r"(?i:bearer|basic)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]+=*)")
_URL_PASSWORD: Final = re.compile(r"://[^\s:/?#@\[\]\"'<>]*:(?P<secret>[^\s/?#\[\]\"'<>]+)@")
# A quoted value runs to its closing quote (escaped ones too, as in JSON logged inside a
# JSON string); a bare one is a token here, and checks.labelled runs a password on.
_LABELLED: Final = re.compile(
    r"(?P<label>(?i:password|passwd|passphrase|pass|pwd|secret|token|api[_-]?key|"
    r"access[_-]?key|private[_-]?key|secret[_-]?key|credentials?))"
    r"(?:(?P<encoded>(?:%22)?%3[AaDd](?:%20|\+)*(?:%22)?)"  # URL-encoded: password%3D...
    r"|(?:\\?[\"'])?[ \t]*(?:[:=]|=>)[ \t]*)"
    r"(?:\\\"(?P<escaped>(?:[^\"\\\r\n]|\\[^\"\r\n])*)"
    r"|\"(?P<double>(?:[^\"\\\r\n]|\\.)*)"
    r"|'(?P<single>(?:[^'\\\r\n]|\\.)*)"
    r"|(?P<bare>[^\s\"'`,;&<>(){}\[\]]+))"
)
# Vendors whose keys name themselves by a prefix: one regex, each kind a named group, so
# the engine looks for the prefixes' first characters once instead of once per kind. Every
# one of these holds "_", ".", "k", "A" or "S" (what the cheap gate before it asks for).
_VENDOR_KINDS: Final = (
    "anthropic_key", "sendgrid_key", "huggingface_token", "pypi_token", "npm_token",
    "twilio_key", "mailgun_key", "shopify_token", "digitalocean_token", "vault_token",
    "grafana_token", "linear_key", "postman_key", "newrelic_key", "atlassian_token",
    "doppler_token", "discord_webhook", "private_key",
)  # fmt: skip
_VENDOR: Final = re.compile(
    r"(?:(?P<anthropic_key>sk-ant-(?:api|admin|oat|sid)[0-9]{2}-[A-Za-z0-9_-]{20,})"
    r"|(?P<sendgrid_key>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})"
    r"|(?P<huggingface_token>hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})"
    r"|(?P<pypi_token>pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})"
    r"|(?P<npm_token>npm_[A-Za-z0-9]{36})"
    r"|(?P<twilio_key>AC[0-9a-f]{32}|SK[0-9a-f]{32})"
    r"|(?P<mailgun_key>key-[0-9a-f]{32}|pubkey-[0-9a-f]{32})"
    r"|(?P<shopify_token>shp(?:at|ca|pa|ss)_[A-Fa-f0-9]{32})"
    r"|(?P<digitalocean_token>do[opr]_v1_[a-f0-9]{64})"
    r"|(?P<vault_token>hv[sb]\.[A-Za-z0-9_-]{90,})"
    r"|(?P<grafana_token>glc_[A-Za-z0-9+/]{32,}={0,2}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})"
    r"|(?P<linear_key>lin_api_[A-Za-z0-9]{40})"
    r"|(?P<postman_key>PMAK-[a-f0-9]{24}-[a-f0-9]{34})"
    r"|(?P<newrelic_key>NRAK-[A-Z0-9]{27})"
    r"|(?P<atlassian_token>ATATT3[A-Za-z0-9_=-]{150,})"
    r"|(?P<doppler_token>dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44})"
    r"|(?P<discord_webhook>discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})"
    r"|(?P<private_key>AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}))"
    r"(?![A-Za-z0-9_-])"
)
_VENDOR_PREFIXES: Final = (
    "sk-ant-", "SG.", "hf_", "api_org_", "pypi-AgE", "npm_", "AC", "SK", "key-", "shp", "_v1_",
    "hvs.", "hvb.", "glc_", "glsa_", "lin_api_", "PMAK-", "NRAK-", "ATATT3", "dp.", "discord",
    "AGE-SECRET-KEY",
)  # fmt: skip
_GITLAB: Final = re.compile(
    r"(?:gl(?:pat|dt|rtr|rt|ptt|soat|cbt|ft|imt|oas|agent|ffct|wt)-[A-Za-z0-9_.-]{20,}"
    r"|GR1348941[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])"
)
_SQUARE: Final = re.compile(r"sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43}(?![A-Za-z0-9_-])")
_DATABRICKS: Final = re.compile(r"dapi[a-f0-9]{32}(?:-[0-9])?(?![A-Za-z0-9_-])")
# Hex keys with no prefix, told by their shape: Mailgun's newer keys and Mailchimp's.
_MAILGUN: Final = re.compile(r"[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}(?![0-9A-Za-z-])")
_MAILCHIMP: Final = re.compile(r"[0-9a-f]{32}-us[0-9]{1,2}(?![0-9A-Za-z-])")
_TELEGRAM: Final = re.compile(r"[0-9]{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])")
_AZURE_KEY: Final = re.compile(
    r"(?i:accountkey|sharedaccesskey)[ \t]*=[ \t]*(?P<secret>[A-Za-z0-9+/]{20,}={0,2})"
)
_AZURE_SAS: Final = re.compile(r"sig=(?P<secret>[A-Za-z0-9%+/=_-]{16,})")
_DATADOG: Final = re.compile(
    r"(?i:(?:dd|datadog)[_-]?(?:api|app|application)[_-]?key)"
    + _LABEL
    + r"(?P<secret>[a-f0-9]{40}|[a-f0-9]{32})(?![A-Za-z0-9])"
)
_COOKIE: Final = re.compile(
    r"(?i:cookie)[\"']?[ \t]*:[ \t]*"
    r"(?:\"(?P<double>[^\"\r\n]*)\"|'(?P<single>[^'\r\n]*)'|(?P<bare>[^\"'\r\n]+))"
)
# A command-line option named like a secret (--password X, --token=X, -storepass X); the
# option's name is checked in contexts.cli_option, back from the label the match starts at.
_CLI_OPTION: Final = re.compile(
    r"(?i:password|passwd|passphrase|passin|passout|pass|pwd|secret|token|api[_-]?key)"
    r"(?:=|[ \t]+)"
    r"(?:\"(?P<double>[^\"\r\n]*)\"|'(?P<single>[^'\r\n]*)'|(?P<bare>[^\s\"'`]+))"
)
# Short flags that carry a password for some commands only (mysql -pX, sshpass -p X,
# redis-cli -a X, curl -u user:X); checks.cli_flag reads the command before the flag.
_CLI_FLAG: Final = re.compile(
    r"(?P<flag>--user|-[pau])(?P<gap>[ \t]+|=)?"
    r"(?:\"(?P<double>[^\"\r\n]*)\"|'(?P<single>[^'\r\n]*)'|(?P<bare>[^\s\"'`]+))"
)
# A field of a JSON object written as text: the key decides, as a dict key does.
_JSON_FIELD: Final = re.compile(
    r"\"(?P<key>[A-Za-z0-9_.$@-]{1,64})(?P<esc>\\?)\"[ \t]*:[ \t]*"
    r"(?:(?P=esc)\"(?P<value>(?:[^\"\\\r\n]|\\.)*?)(?P=esc)\"|(?P<number>-?[0-9][0-9.eE+-]{0,30}))"
)
_IBAN: Final = re.compile(r"[A-Z][A-Z][0-9][0-9](?: ?[A-Z0-9]){11,34}")
_CARD_NUMBER: Final = re.compile(r"[2-6][0-9](?:[ -]?[0-9]){11,17}(?![ -]?[0-9])")
_EMAIL: Final = re.compile(  # from the "@" on; checks.email finds the local part
    r"@(?![0-9]+x\.)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_PHONE: Final = re.compile(
    r"(?:\+[0-9]{1,3}(?:[ .-][0-9]{1,10}){1,6}"  # +44 20 7946 0958
    r"|\+[0-9]{1,3}[ .-]?\([0-9]{1,4}\)[ .-]?[0-9]{1,10}(?:[ .-][0-9]{1,10}){0,5}"
    r"|\+[0-9]{7,15}"  # +442079460958
    r"|00[0-9]{1,3}(?:[ .-][0-9]{1,10}){2,6}"  # 0044 20 7946 0958
    r"|\([0-9]{2,5}\)[ .-]?[0-9]{2,5}(?:[ .-][0-9]{2,5}){1,3}"  # (415) 555-0132
    r"|[2-9][0-9]{2}(?P<sep>[ .-])[2-9][0-9]{2}(?P=sep)[0-9]{4}"  # 415-555-0132
    r"|0[1-9](?:[ .][0-9]{2}){4}"  # 01 23 45 67 89
    r"|0[1-9][0-9]{0,3}[ -][0-9]{3,8}(?:[ -][0-9]{3,4})?"  # 020 7946 0958
    r")(?![0-9A-Za-z_]|[.-][0-9])"
)
_LABELS: Final = ("pass", "pwd", "secret", "token", "api", "access", "private", "credential")
_SCHEMES: Final = ("bearer", "basic")
_HEADER: Final = ("authorization",)
_GITHUB_PREFIXES: Final = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
_STRIPE_PREFIXES: Final = ("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_")
_IBAN_SHAPE: Final = _shape("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ")
_CARD_SHAPE: Final = _shape(DIGITS + " -")
_PHONE_SHAPE: Final = _shape(DIGITS + " ().+-")

_HEX_SHAPE: Final = _shape("0123456789abcdef-")
# Every vendor key is a run of 26 or more of these: prose and most IDs have none.
_TOKEN_SHAPE: Final = _shape(DIGITS + string.ascii_letters + "_-.+/=")
_CLI_OPTIONS: Final = ("pass", "pwd", "secret", "token", "api")
_CLI_FLAGS: Final = (" -p", " -a", " -u", " --user", "\t-")
_FLAGS: Final = ("-p", "-a", "-u", "--user")

# kind, regex, check on a match, characters (one needed), literals (one needed), more
BUILTIN: Final = (
    Detector("private_key", _PRIVATE_KEY, checks.whole, "K", ("PRIVATE KEY",), min_len=30),
    Detector("slack_webhook", _WEBHOOK, checks.webhook, "/", ("hooks.slack.com",), min_len=30),
    Detector(
        "vendor_token",
        _VENDOR,
        contexts.vendor,
        "_.kAS",
        _VENDOR_PREFIXES,
        shape=_TOKEN_SHAPE,
        min_len=26,
        kinds=_VENDOR_KINDS,
    ),
    Detector("gitlab_token", _GITLAB, contexts.vendor, "lG", ("gl", "GR1348941"), min_len=26),
    Detector("square_token", _SQUARE, checks.token, "q", ("sq0",), min_len=29),
    Detector("databricks_token", _DATABRICKS, checks.token, "p", ("dapi",), min_len=36),
    Detector("mailgun_key", _MAILGUN, checks.token, "-", shape=_HEX_SHAPE, min_len=50),
    Detector("mailchimp_key", _MAILCHIMP, checks.token, "s", ("-us",), min_len=35),
    Detector("telegram_token", _TELEGRAM, contexts.telegram, ":", (":AA",), min_len=44),
    Detector("jwt", _JWT, checks.token, "J", ("eyJ",), min_len=24),
    Detector("github_token", _GITHUB, checks.token, "_", _GITHUB_PREFIXES, min_len=40),
    Detector("slack_token", _SLACK_TOKEN, checks.token, "x", ("xox", "xapp-"), min_len=14),
    Detector("openai_key", _OPENAI, checks.openai_key, "k", ("sk-",), min_len=23),
    Detector("stripe_key", _STRIPE, checks.token, "_", _STRIPE_PREFIXES, min_len=24),
    Detector("google_api_key", _GOOGLE, checks.token, "A", ("AIza",), min_len=39),
    Detector("aws_access_key", _AWS_ACCESS, checks.token, "A", ("AKIA", "ASIA"), min_len=20),
    Detector("aws_secret_key", _AWS_SECRET, checks.secret, ":=", anchors=("secret",), min_len=50),
    Detector("authorization", _AUTH_HEADER, checks.auth_header, ":=", anchors=_HEADER, min_len=20),
    Detector("authorization", _AUTH, checks.auth, " \t", anchors=_SCHEMES, min_len=14),
    Detector("url_password", _URL_PASSWORD, checks.secret, "@", ("://",), min_len=10),
    Detector(
        "azure_storage_key",
        _AZURE_KEY,
        checks.secret,
        "=",
        anchors=("accountkey", "sharedaccesskey"),
        min_len=30,
    ),
    Detector("azure_storage_key", _AZURE_SAS, contexts.sas, "=", anchors=("sig=",), min_len=20),
    Detector(
        "datadog_key",
        _DATADOG,
        contexts.datadog,
        ":=",
        anchors=("dd_", "dd-", "datadog"),
        min_len=40,
    ),
    Detector("cookie", _COOKIE, contexts.cookie, ":", anchors=("cookie",), min_len=9),
    Detector(
        "cli_password",
        _CLI_OPTION,
        contexts.cli_option,
        " \t",
        (" -", "\t-", "--"),
        _CLI_OPTIONS,
        min_len=8,
    ),
    Detector("cli_password", _CLI_FLAG, contexts.cli_flag, " \t", _CLI_FLAGS, _FLAGS, min_len=8),
    Detector(SECRET_FIELD, _JSON_FIELD, contexts.json_field, ":", ('":', '" :'), min_len=8),
    Detector(
        SECRET_FIELD, _LABELLED, checks.labelled, ":=%", anchors=_LABELS, min_len=8, run_on=True
    ),
    Detector("iban", _IBAN, checks.iban, DIGITS, shape=_IBAN_SHAPE, min_len=15),
    Detector("card_number", _CARD_NUMBER, checks.card, DIGITS, shape=_CARD_SHAPE, min_len=13),
    Detector("email", _EMAIL, checks.email, "@", min_len=6),
    Detector("phone", _PHONE, checks.phone, DIGITS, shape=_PHONE_SHAPE, min_len=7),
)
BUILTIN_KINDS: Final = frozenset(
    kind for detector in BUILTIN for kind in (detector.kinds or (detector.kind,))
)
