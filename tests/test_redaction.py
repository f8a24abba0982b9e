"""Redaction before storage: every kind, structure, policy, and the corpus."""

from __future__ import annotations

import copy
import json
from types import MappingProxyType

import pytest

from tests.redaction_corpus import NEGATIVES, POLICY, POSITIVES, false_positives, misses
from workflows.redaction import (
    BUILTIN_KINDS,
    PERSONAL_KINDS,
    Redacted,
    RedactionPolicy,
    Redactor,
    is_secret_key,
    placeholder,
    validate_custom_pattern,
)

EVERYTHING = Redactor(POLICY)
SECRETS_ONLY = Redactor()

# One fake example per kind; prefixes are joined so secret scanners leave this file alone.
EXAMPLES = {
    "aws_access_key": ("key AKIA" + "IOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
    "aws_secret_key": (
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "slack_token": ("token " + "xox" + "b-1234567890-0987654321-FakeFake", "FakeFake"),
    "slack_webhook": (
        "post to https://hooks.slack" + ".com/services/T0FAKE/B0FAKE/FakeFakeFake1 now",
        "FakeFakeFake1",
    ),
    "github_token": ("gh" + "p_FAKEfake0123456789abcdefABCDEF012345", "FAKEfake"),
    "openai_key": ("key sk" + "-proj-Fake0123456789abcdefGHIJKL", "Fake0123456789"),
    "stripe_key": ("stripe.api_key = 'sk" + "_live_FakeFake0123456789abcd'", "FakeFake"),
    "google_api_key": ("maps key AI" + "zaFakeFake0123456789abcdefghijklmnopq", "FakeFake"),
    "jwt": ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.c2lnbmF0dXJl", "eyJzdWIiOiJmYWtlIn0"),
    "private_key": (
        "-----BEGIN PRIVATE" + " KEY-----\nMIIFakeKeyBody\n-----END PRIVATE KEY-----",
        "MIIFakeKeyBody",
    ),
    "authorization": ("Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", "YWxhZGRpbj"),
    "url_password": ("postgres://app:S3cretPassw0rd@db.internal/orders", "S3cretPassw0rd"),
    "secret_field": ("password=hunter22", "hunter22"),
    "email": ("write to alice.smith@example.com", "alice.smith"),
    "phone": ("call +44 20 7946 0958", "7946"),
    "card_number": ("card 4111 1111 1111 1111", "1111"),
    "iban": ("IBAN GB82 WEST 1234 5698 7654 32", "WEST"),
    "ticket_ref": ("see TCK-204816", "204816"),
    "gitlab_token": ("token gl" + "pat-FAKEqVwYS81VP7Hb1DX8 expired", "FAKEqVwYS81"),
    "anthropic_key": ("key sk" + "-ant-api03-Fake0123456789abcdefGHIJKL", "Fake0123456789"),
    "sendgrid_key": ("SG" + ".FAKExE3pyIgKpaUnArl63X." + "k" * 43, "FAKExE3"),
    "huggingface_token": ("hf" + "_FAKEtMLaMRTvetwtESulEETldqbVwzbJYA", "FAKEtML"),
    "npm_token": ("npm" + "_FAKEtEkUdfMI7zcpVMw0qDPAjd6OcZFv1niU", "FAKEtEk"),
    "cookie": ("Cookie: sid=FAKE0a1b2c3d", "FAKE0a1b"),
    "cli_password": ("docker login -u ci --password Fak3Pass", "Fak3Pass"),
}


@pytest.mark.parametrize(("kind", "example"), EXAMPLES.items(), ids=list(EXAMPLES))
def test_each_kind_is_replaced_by_its_placeholder_and_counted(
    kind: str, example: tuple[str, str]
) -> None:
    """Each kind's value is replaced by ``[REDACTED:<kind>]`` and counted once under it."""
    text, fragment = example
    result = EVERYTHING.redact(text)
    assert isinstance(result.value, str)
    assert placeholder(kind) in result.value
    assert fragment not in result.value
    assert result.counts == {kind: 1}


def test_placeholder_names_the_kind() -> None:
    """A placeholder reads ``[REDACTED:<kind>]``."""
    assert placeholder("email") == "[REDACTED:email]"


def test_authorization_keeps_the_scheme_word() -> None:
    """Only the credential after ``Bearer`` goes; the header and the scheme stay readable."""
    result = SECRETS_ONLY.redact("Authorization: Bearer abc123def456ghi789")
    assert result.value == "Authorization: Bearer [REDACTED:authorization]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Token abc123def456", "Authorization: Token [REDACTED:authorization]"),
        (
            "Authorization: Bearer qwertyuiopasdfgh",
            "Authorization: Bearer [REDACTED:authorization]",
        ),
        (
            "curl -H 'authorization: token abcdefgh' https://api.example.com",
            "curl -H 'authorization: token [REDACTED:authorization]' https://api.example.com",
        ),
        (
            '{"Authorization": "Key opaque-key"}',
            '{"Authorization": "Key [REDACTED:authorization]"}',
        ),
        (
            'Authorization: Digest username="bob", nc=1\nok',
            "Authorization: Digest [REDACTED:authorization]\nok",
        ),
    ],
)
def test_an_authorization_header_loses_its_credential_whatever_the_scheme(
    text: str, expected: str
) -> None:
    """After ``Authorization:`` and a scheme word, the credential goes however plain it looks."""
    assert SECRETS_ONLY.redact(text) == Redacted(expected, {"authorization": 1})


def test_a_header_logged_as_a_name_value_pair_hides_its_value() -> None:
    """``{"name": "Authorization", "value": ...}`` hides the value as if it were keyed by name."""
    headers = [
        {"name": "Authorization", "value": "Token abc"},
        {"name": "Accept", "value": "application/json"},
    ]
    result = SECRETS_ONLY.redact({"request": {"headers": headers}})
    assert result.value == {
        "request": {
            "headers": [
                {"name": "Authorization", "value": "[REDACTED:secret_field]"},
                {"name": "Accept", "value": "application/json"},
            ]
        }
    }
    assert result.counts == {"secret_field": 1}


def test_url_password_keeps_the_user_and_the_host() -> None:
    """Only the password of ``scheme://user:password@host`` goes."""
    result = SECRETS_ONLY.redact("redis://app:hunter2hunter2@cache.internal:6379/0")
    assert result.value == "redis://app:[REDACTED:url_password]@cache.internal:6379/0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password: correct horse battery staple", "password: [REDACTED:secret_field]"),
        ('password="hunter two" ok', 'password="[REDACTED:secret_field]" ok'),
        ("password='hunter two'", "password='[REDACTED:secret_field]'"),
        ('{"password": "a b \\" c"}', '{"password": "[REDACTED:secret_field]"}'),
        (
            '{\\"password\\": \\"hunter two\\"}',
            '{\\"password\\": \\"[REDACTED:secret_field]\\"}',
        ),
        ("password=hunter two user=bob", "password=[REDACTED:secret_field] user=bob"),
        ("password=hunter two&user=bob", "password=[REDACTED:secret_field]&user=bob"),
        ("password: hunter two, user: bob", "password: [REDACTED:secret_field], user: bob"),
        ("db_password: Tr0ub4dor&3", "db_password: [REDACTED:secret_field]"),
        ("password: a,b c, please", "password: [REDACTED:secret_field]"),
        ("password: don't tell\nnext line", "password: [REDACTED:secret_field]\nnext line"),
        ("Password=pa ss;User Id=sa", "Password=[REDACTED:secret_field];User Id=sa"),
        ("-d 'password=hunter two' https://x", "-d 'password=[REDACTED:secret_field]' https://x"),
        ("token: abc123 def456", "token: [REDACTED:secret_field] def456"),
    ],
)
def test_a_labelled_secret_is_redacted_whole(text: str, expected: str) -> None:
    """A quoted value goes to its closing quote; a bare password to the end of its phrase.

    A passphrase has spaces and a password may hold "&" or ",": redacting up to the first
    of those would leak the rest. The next label, a ";" or the end of the line ends it.
    """
    assert SECRETS_ONLY.redact(text) == Redacted(expected, {"secret_field": 1})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mysql -u root -phunter2 orders", "mysql -u root -p[REDACTED:cli_password] orders"),
        ("sshpass -p hunter2 ssh db", "sshpass -p [REDACTED:cli_password] ssh db"),
        (
            "curl -u alice:Fake0pass https://x.io",
            "curl -u alice:[REDACTED:cli_password] https://x.io",
        ),
        ("openssl -passin pass:Fake0pass", "openssl -passin pass:[REDACTED:cli_password]"),
    ],
)
def test_a_command_line_password_is_redacted_and_the_rest_kept(text: str, expected: str) -> None:
    """A password on a command line goes; the command, the user and the prefix stay."""
    assert SECRETS_ONLY.redact(text).value == expected


@pytest.mark.parametrize(
    "text", ["mysql -u root -p orders", "docker run -p 8080:80 app", "ssh -p 2222 host"]
)
def test_a_short_p_flag_is_a_password_only_where_the_command_says_so(text: str) -> None:
    """``-p`` is a port or a prompt for most commands: only mysql's glued ``-pX`` is kept secret."""
    assert SECRETS_ONLY.redact(text).value == text


def test_set_cookie_loses_its_value_and_keeps_its_name_and_attributes() -> None:
    """A ``Set-Cookie`` header keeps the cookie's name and attributes, never its value."""
    text = "Set-Cookie: session=FAKEabcdef123456; Path=/; HttpOnly"
    expected = "Set-Cookie: session=[REDACTED:cookie]; Path=/; HttpOnly"
    assert SECRETS_ONLY.redact(text).value == expected


def test_a_json_text_keeps_its_shape_when_a_secret_field_goes() -> None:
    """Secret fields of a JSON object written as text are replaced and the text stays JSON."""
    text = '{"user": "alice", "pass": "hunter2", "name": "API_KEY", "value": "abcdefgh"}'
    redacted = SECRETS_ONLY.redact(text)
    assert json.loads(str(redacted.value)) == {
        "user": "alice",
        "pass": "[REDACTED:secret_field]",
        "name": "API_KEY",
        "value": "[REDACTED:secret_field]",
    }
    assert redacted.counts == {"secret_field": 2}


def test_an_url_encoded_password_ends_at_the_encoded_ampersand() -> None:
    """``password%3D…`` is redacted up to ``%26``, so the next parameter stays readable."""
    text = "next=%2Flogin%3Fpassword%3Dhunter2%26remember%3D1"
    expected = "next=%2Flogin%3Fpassword%3D[REDACTED:secret_field]%26remember%3D1"
    assert SECRETS_ONLY.redact(text).value == expected


def test_a_jwt_in_an_authorization_header_counts_once_as_a_jwt() -> None:
    """A JWT after ``Bearer`` is one secret, counted under the more specific kind."""
    jwt = EXAMPLES["jwt"][0]
    result = SECRETS_ONLY.redact(f"Authorization: Bearer {jwt}")
    assert result.value == "Authorization: Bearer [REDACTED:jwt]"
    assert result.counts == {"jwt": 1}


def test_a_token_in_a_url_counts_once_under_its_own_kind() -> None:
    """A GitHub token used as a URL password is counted as a GitHub token, not twice."""
    token = EXAMPLES["github_token"][0]
    result = SECRETS_ONLY.redact(f"https://ci:{token}@github.com/acme/app.git")
    assert result.value == "https://ci:[REDACTED:github_token]@github.com/acme/app.git"
    assert result.counts == {"github_token": 1}


def test_dict_keys_and_values_are_both_redacted() -> None:
    """Secrets are found in dict keys as well as in nested values."""
    value = {"by_user": {"alice@example.com": "sent 4111 1111 1111 1111"}}
    result = EVERYTHING.redact(value)
    assert result.value == {"by_user": {"[REDACTED:email]": "sent [REDACTED:card_number]"}}


def test_lists_and_tuples_are_walked_and_keep_their_type() -> None:
    """Lists stay lists and tuples stay tuples, with their strings redacted."""
    value = {"a": ["password=hunter22", ("x", "password=hunter22")]}
    redacted = "password=[REDACTED:secret_field]"
    assert SECRETS_ONLY.redact(value).value == {"a": [redacted, ("x", redacted)]}
    assert SECRETS_ONLY.redact(value).value != {"a": [redacted, ["x", redacted]]}


def test_counts_add_up_over_the_whole_value() -> None:
    """Counts are the number of replacements of each kind across the whole value."""
    value = {
        "to": ["a@example.com", "b@example.com"],
        "cc": "c@example.com",
        "auth": {"token": "opaque"},
    }
    result = EVERYTHING.redact(value)
    assert result.counts == {"email": 3, "secret_field": 1}


def test_counts_hold_kind_names_never_values() -> None:
    """The counts say what kind was removed, never the value itself."""
    result = EVERYTHING.redact("alice@example.com password=hunter22")
    assert set(result.counts) == {"email", "secret_field"}
    assert all(isinstance(count, int) for count in result.counts.values())


def test_the_input_is_never_mutated() -> None:
    """Redaction returns a copy and leaves the caller's value as it was."""
    value = {"user": {"email": "a@example.com", "password": "x"}, "cards": ["4111111111111111"]}
    before = copy.deepcopy(value)
    result = EVERYTHING.redact(value)
    assert value == before
    assert result.value != value


def test_a_clean_value_comes_back_equal_with_no_counts() -> None:
    """A value with nothing to redact comes back equal, with empty counts."""
    value = {"status": "shipped", "items": [{"sku": "SKU-1042", "qty": 2}]}
    assert EVERYTHING.redact(value) == Redacted(value, {})


@pytest.mark.parametrize("scalar", [0, 42, 3.5, True, False, None])
def test_other_scalars_pass_through_untouched(scalar: object) -> None:
    """Numbers, booleans and None come back as they are."""
    assert EVERYTHING.redact(scalar).value is scalar


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "DB_PASSWORD",
        "passwd",
        "pwd",
        "DB_PWD",
        "userPwd",
        "pass",
        "PASS",
        "secret",
        "client_secret",
        "clientSecret",
        "token",
        "access_token",
        "X-Auth-Token",
        "api_key",
        "apiKey",
        "APIKey",
        "x-api-key",
        "apikey",
        "aws_secret_access_key",
        "private_key",
        "access_key",
        "Authorization",
        "credentials",
    ],
)
def test_a_key_named_like_a_secret_hides_its_whole_value(key: str) -> None:
    """The value under a key named like a secret is replaced whole, whatever it looks like."""
    result = SECRETS_ONLY.redact({key: "plain words", "other": "plain words"})
    assert result.value == {key: "[REDACTED:secret_field]", "other": "plain words"}
    assert result.counts == {"secret_field": 1}


@pytest.mark.parametrize(
    "key",
    [
        *("token_count", "max_tokens", "prompt_tokens", "password_reset", "token_type", "key"),
        *("password_reset_url", "bypass", "first_pass", "compass", "passenger"),
    ],
)
def test_a_key_that_only_mentions_a_secret_word_is_left_alone(key: str) -> None:
    """Counters and flags such as ``max_tokens`` are not secrets."""
    assert not is_secret_key(key)
    assert SECRETS_ONLY.redact({key: 512}).value == {key: 512}


def test_a_number_under_a_secret_key_is_hidden() -> None:
    """A numeric PIN or password under a secret key is replaced too."""
    assert SECRETS_ONLY.redact({"password": 123456}).value == {
        "password": "[REDACTED:secret_field]"
    }


def test_every_leaf_under_a_secret_key_is_hidden() -> None:
    """A dict or list under a secret key has each string and number leaf replaced."""
    value = {"credentials": {"user": "svc", "keys": ["k1", "k2"], "port": 22, "ok": True}}
    result = SECRETS_ONLY.redact(value)
    hidden = "[REDACTED:secret_field]"
    expected = {
        "credentials": {"user": hidden, "keys": [hidden, hidden], "port": hidden, "ok": True}
    }
    assert result.value == expected
    assert result.counts == {"secret_field": 4}


def test_personal_kinds_are_off_by_default() -> None:
    """Without a policy only secrets go; emails, phones, cards and IBANs stay."""
    text = "alice@example.com +44 20 7946 0958 4111 1111 1111 1111 GB82 WEST 1234 5698 7654 32"
    assert SECRETS_ONLY.redact(text) == Redacted(text, {})


@pytest.mark.parametrize(("name", "kind"), PERSONAL_KINDS.items())
def test_a_personal_kind_is_on_when_the_policy_names_it(name: str, kind: str) -> None:
    """Each personal kind is redacted once the policy turns it on, and only that one."""
    text = " ; ".join(EXAMPLES[other][0] for other in PERSONAL_KINDS.values())
    result = Redactor(RedactionPolicy(personal=frozenset({name}))).redact(text)
    assert result.counts == {kind: 1}


def test_secrets_are_redacted_under_any_policy() -> None:
    """A policy cannot turn the secrets off: they are redacted with personal kinds on too."""
    result = Redactor(RedactionPolicy(personal=frozenset({"emails"}))).redact("password=hunter22")
    assert result.counts == {"secret_field": 1}


def test_a_custom_pattern_is_counted_under_its_own_name() -> None:
    """A workflow's pattern replaces its matches under the name it was configured with."""
    redactor = Redactor(RedactionPolicy(custom=(("badge", r"BDG-[0-9]{4}"),)))
    result = redactor.redact("badge BDG-1234 and BDG-9876")
    assert result.value == "badge [REDACTED:badge] and [REDACTED:badge]"
    assert result.counts == {"badge": 2}


def test_an_invalid_custom_pattern_raises_value_error_naming_it() -> None:
    """A pattern that does not compile is rejected with its name and text in the message."""
    with pytest.raises(ValueError, match=r"'badge' \('BDG-\[0-9'\) does not compile"):
        RedactionPolicy(custom=(("badge", "BDG-[0-9"),))


def test_validate_custom_pattern_returns_the_compiled_pattern() -> None:
    """A valid custom pattern comes back compiled, ready to use."""
    assert validate_custom_pattern("badge", r"BDG-[0-9]{4}").fullmatch("BDG-1234")


def test_a_custom_pattern_matching_nothing_at_all_is_rejected() -> None:
    """A pattern that matches the empty string would redact nothing useful, so it is refused."""
    with pytest.raises(ValueError, match="'anything'"):
        validate_custom_pattern("anything", r"[0-9]*")


def test_a_custom_pattern_cannot_take_a_built_in_kind_name() -> None:
    """Custom names must not collide with built-in kinds, or counts would mix."""
    with pytest.raises(ValueError, match="'email'"):
        validate_custom_pattern("email", r"x+")


def test_an_unknown_personal_kind_is_rejected() -> None:
    """A typo in the policy fails loudly instead of silently redacting less."""
    with pytest.raises(ValueError, match="emials"):
        RedactionPolicy(personal=frozenset({"emials"}))


def test_from_config_reads_a_workflow_redact_list() -> None:
    """``redact: [secrets, card_numbers]`` plus custom patterns becomes a policy."""
    policy = RedactionPolicy.from_config(["secrets", "card_numbers"], {"badge": r"BDG-[0-9]+"})
    assert policy == RedactionPolicy(
        personal=frozenset({"card_numbers"}), custom=(("badge", r"BDG-[0-9]+"),)
    )


def test_redacting_twice_changes_nothing_more() -> None:
    """Text already redacted is left alone and not counted again."""
    once = EVERYTHING.redact({"note": "alice@example.com", "token": "x"}).value
    assert EVERYTHING.redact(once) == Redacted(once, {})


def test_two_redacted_keys_do_not_overwrite_each_other() -> None:
    """Keys that redact to the same placeholder are both kept, with their values."""
    result = EVERYTHING.redact({"a@example.com": 1, "b@example.com": 2})
    assert result.value == {"[REDACTED:email]": 1, "[REDACTED:email] (2)": 2}
    assert result.counts == {"email": 2}


def test_a_luhn_valid_number_no_issuer_uses_is_not_a_card() -> None:
    """Order numbers pass Luhn one time in ten; the issuer's prefix and length rule them out."""
    assert EVERYTHING.redact("order 6100123456789011 shipped").counts == {}
    assert EVERYTHING.redact("visa 4111111111111111").counts == {"card_number": 1}


def test_a_card_number_must_pass_the_luhn_check() -> None:
    """Sixteen digits that fail the Luhn check are not a card number."""
    assert EVERYTHING.redact("4111 1111 1111 1112").counts == {}
    assert EVERYTHING.redact("4111 1111 1111 1111").counts == {"card_number": 1}


def test_an_iban_must_pass_the_mod_97_check() -> None:
    """An IBAN-shaped string whose check digits are wrong is not an IBAN."""
    assert EVERYTHING.redact("GB82 WEST 1234 5698 7654 33").counts == {}
    assert EVERYTHING.redact("GB82 WEST 1234 5698 7654 32").counts == {"iban": 1}


def test_the_corpus_is_large_and_covers_every_kind() -> None:
    """The corpus has enough cases to mean something, and a positive for every kind."""
    kinds = {kind for _, expected in POSITIVES for kind in expected}
    assert len(POSITIVES) >= 80
    assert len(NEGATIVES) >= 80
    assert set(EXAMPLES) <= kinds
    assert kinds == BUILTIN_KINDS | {"ticket_ref", "employee_id"}


def test_every_corpus_positive_is_found_exactly() -> None:
    """Recall is 100%: every positive yields exactly its expected kinds and counts."""
    assert misses(EVERYTHING) == []


def test_no_corpus_negative_is_touched() -> None:
    """There are no false positives: every near miss comes back unchanged."""
    assert false_positives(EVERYTHING) == []


def test_the_recall_check_fails_when_kinds_are_missed() -> None:
    """The corpus check notices misses: with personal kinds off it reports them."""
    missed = {kind for _, expected, _ in misses(SECRETS_ONLY) for kind in expected}
    assert {"email", "phone", "card_number", "iban", "ticket_ref"} <= missed


def test_the_false_positive_check_fails_when_too_much_is_redacted() -> None:
    """The corpus check notices false positives: a greedy custom pattern trips it."""
    greedy = Redactor(RedactionPolicy(custom=(("digits", r"[0-9]{4,}"),)))
    assert len(false_positives(greedy)) > 10


def test_non_ascii_text_keeps_every_other_character_in_place() -> None:
    """Letters that grow when lowercased (like "İ") do not shift what gets replaced."""
    text = "İİ Authorization: BEARER abc123def456ghi789 — İ password=hunter22; ✓"
    result = SECRETS_ONLY.redact(text)
    assert result.value == (
        "İİ Authorization: BEARER [REDACTED:authorization] — İ password=[REDACTED:secret_field]; ✓"
    )


def test_remembering_clean_strings_never_hides_a_later_secret() -> None:
    """After many clean keys and values fill its memory, the redactor still finds secrets."""
    redactor = Redactor()
    clean = {f"field_{index}": f"value {index}" for index in range(10_000)}
    assert redactor.redact(clean).value == clean
    assert redactor.redact({"field_1": "password=hunter22"}).counts == {"secret_field": 1}


def test_other_mappings_and_sets_are_walked_too() -> None:
    """A read-only mapping or a set of strings cannot carry a secret past redaction."""
    value = {"headers": MappingProxyType({"x": "password=hunter22"}), "tags": {"ok"}}
    result = SECRETS_ONLY.redact(value)
    assert result.value == {"headers": {"x": "password=[REDACTED:secret_field]"}, "tags": {"ok"}}
