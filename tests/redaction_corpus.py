"""A corpus for redaction: positives with the kinds they must yield, and near misses.

Every value is fake: documented example keys, test card numbers, IBANs from the registry's
examples, phone numbers from ranges reserved for drama. Token prefixes are joined at import
(``"xox" + "b-"``) so secret scanners do not flag this file.

``tests/test_redaction.py`` holds the redactor to 100% recall on ``POSITIVES`` and no
redaction at all on ``NEGATIVES``; ``bench/redaction_corpus.py`` prints the same figures.
"""

from __future__ import annotations

from typing import Final

from workflows.redaction import PERSONAL_KINDS, RedactionPolicy, Redactor

POLICY: Final = RedactionPolicy(
    personal=frozenset(PERSONAL_KINDS),
    custom=(("ticket_ref", r"\bTCK-[0-9]{6}\b"), ("employee_id", r"\bEMP[0-9]{5}\b")),
)
"""Every kind on, so the corpus exercises every detector."""

_SLACK_BOT = "xox" + "b-2048307194-5519036672841-Fake0Tok3nValue9xYz"
_SLACK_USER = "xox" + "p-1111111111-2222222222222-3333333333333-fakefakefake0123456789abcdef"
_SLACK_APP = "xap" + "p-1-A0FAKE12345-1234567890123-abcdef0123456789abcdef0123456789"
_WEBHOOK = "https://hooks.slack" + ".com/services/T0FAKE000/B0FAKE000/fAkEwEbHoOkSeCrEt0123456"
_GITHUB = "gh" + "p_FAKEfake0123456789abcdefABCDEF012345"
_GITHUB_APP = "gh" + "s_0123456789FAKEtokenABCDEFabcdef012345"
_GITHUB_PAT = "github" + "_pat_11FAKE0000_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH"
_OPENAI = "sk" + "-Fake0123456789abcdefGHIJKLmnopqrstuvWXYZ0123456"
_OPENAI_PROJ = "sk" + "-proj-Fake_0123456789-abcdefGHIJKLmnopQRSTuvwx"
_ANTHROPIC = "sk" + "-ant-api03-Fake0123456789abcdefGHIJKL-mnopqrstuvWXYZ_012345"
_STRIPE = "sk" + "_live_FakeFake0123456789abcdEFGH"
_STRIPE_RESTRICTED = "rk" + "_test_0123FakeFakeFake4567wxyz"
_STRIPE_WEBHOOK = "wh" + "sec_FakeFakeFake0123456789abcdefGHIJ"
_GOOGLE = "AI" + "zaSyFakeFakeFake0123456789abcdefghijk"
_AWS = "AKIA" + "IOSFODNN7EXAMPLE"
_AWS_TEMP = "ASIA" + "FAKE0123456789AB"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJmYWtlLXVzZXIiLCJuYW1lIjoiRmFrZSJ9"
    ".Zm9vYmFyYmF6cXV4ZmFrZXNpZ25hdHVyZTAxMjM0NQ"
)
_JWT_NONE = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmYWtlIn0."
_PEM = (
    "-----BEGIN RSA PRIVATE" + " KEY-----\n"
    "MIIEowIBAAKCAQEAfakefakefakefakefakefakefakefakefakefake0123456789\n"
    "fakefakefakefakefakefakefakefakefakefakefakefakefakefake==\n"
    "-----END RSA PRIVATE KEY-----"
)
_OPENSSH = (
    "-----BEGIN OPENSSH PRIVATE" + " KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAAfake\\n"
    "-----END OPENSSH PRIVATE KEY-----"
)

_GITLAB = "gl" + "pat-FAKEqVwYS81VP7Hb1DX8"
_GITLAB_ROUTABLE = "gl" + "pat-FAKEvwYS81VP7Hb1DX8pPdNqVwYS81VP7Hb1.01.171abc123"
_GITLAB_DEPLOY = "gl" + "dt-FAKE9k3ksu9mI4ROnl89"
_GITLAB_RUNNER = "gl" + "rt-t1_FAKEhxE3pyIgKpaUnArl63Xy"
_GITLAB_TRIGGER = "gl" + "ptt-45cf642b0c3a4acdd7f9fcc589f8d0a9f94f03e7"
_GITLAB_REGISTRATION = "GR1348941" + "FAKEaUnArl63Xy5khxE3"
_SENDGRID = "SG" + ".FAKExE3pyIgKpaUnArl63X.kWZeiNNCiia3anXn9k3ksu9mI4ROnl89Sm995ytbxAk"
_HUGGINGFACE = "hf" + "_FAKEtMLaMRTvetwtESulEETldqbVwzbJYA"
_PYPI = (
    "pypi" + "-AgEIcHlwaS5vcmc" + "CJDFAKExyL1aCcTlN99mhWp708DwGw5HqXDgLVXZx3scB8fnvGNx6jvr7SIftRu"
)
_NPM = "npm" + "_FAKEtEkUdfMI7zcpVMw0qDPAjd6OcZFv1niU"
_AZURE_KEY = (
    "FAKEv3Vth1Ls6v6+O9JL8ZsoWw/Rxl+IUiTeNUJ+HLRwb8GPJ7KTSJS0Sw5UQsvzU9Kk1v1MIdzu4xCxf8Cvgro=="
)
_TWILIO_SID = "AC" + "a5f61debc267b0bc8d3b1939a9b4ddbe"
_TWILIO_KEY = "SK" + "45cf642b0c3a4acdd7f9fcc589f8d0a9"
_MAILGUN = "key" + "-a5f61debc267b0bc8d3b1939a9b4ddbe"
_MAILGUN_NEW = "a5f61debc267b0bc8d3b1939a9b4ddbe" + "-914c0f87-f17f8499"
_DATADOG_API = "a5f61debc267b0bc8d3b1939a9b4ddbe"
_DATADOG_APP = "45cf642b0c3a4acdd7f9fcc589f8d0a9f94f03e7"
_ANTHROPIC_ADMIN = "sk" + "-ant-admin01-FAKE8pcqMKRLd7SUqeaG6nyb229X8YzL7iMa3K8Nsv9-Qt2gi"
_SHOPIFY = "shp" + "at_a5f61debc267b0bc8d3b1939a9b4ddbe"
_DIGITALOCEAN = "dop" + "_v1_" + "a5f61debc267b0bc8d3b1939a9b4ddbe" * 2
_LINEAR = "lin" + "_api_FAKEtEkUdfMI7zcpVMw0qDPAjd6OcZFv1niUabcd"
_DISCORD_WEBHOOK = (
    "https://discord" + ".com/api/webhooks/123456789012345678/"
    "FAKEhxE3pyIgKpaUnArl63XykWZeiNNCiia3anXn9k3ksu9mI4ROnl89Sm995ytbxAk"
)
_TELEGRAM = "123456789" + ":AA" + "FAKEhxE3pyIgKpaUnArl63XykWZeiNNCx"
_AGE = "AGE-SECRET" + "-KEY-1" + "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"

Positive = tuple[object, dict[str, int]]

POSITIVES: Final[list[Positive]] = [
    # aws_access_key
    (_AWS, {"aws_access_key": 1}),
    (f"export AWS_ACCESS_KEY_ID={_AWS}", {"aws_access_key": 1}),
    (f"temporary credentials {_AWS_TEMP} expire in 1h", {"aws_access_key": 1}),
    (f'{{"AccessKeyId": "{_AWS_TEMP}"}}', {"aws_access_key": 1}),
    # aws_secret_key
    (f"aws_secret_access_key={_AWS_SECRET}", {"aws_secret_key": 1}),
    (f"AWS_SECRET_ACCESS_KEY: {_AWS_SECRET}", {"aws_secret_key": 1}),
    (f'{{"SecretAccessKey": "{_AWS_SECRET}"}}', {"aws_secret_key": 1}),
    (
        f"[default]\naws_access_key_id = {_AWS}\naws_secret_access_key = {_AWS_SECRET}\n",
        {"aws_access_key": 1, "aws_secret_key": 1},
    ),
    # slack_token
    (_SLACK_BOT, {"slack_token": 1}),
    (f"SLACK_BOT_TOKEN={_SLACK_BOT}", {"slack_token": 1}),
    (f"user token {_SLACK_USER} was revoked", {"slack_token": 1}),
    (f"socket mode with {_SLACK_APP}", {"slack_token": 1}),
    (f"two tokens: {_SLACK_BOT} and {_SLACK_USER}", {"slack_token": 2}),
    # slack_webhook
    (_WEBHOOK, {"slack_webhook": 1}),
    (f"POST {_WEBHOOK} returned 404", {"slack_webhook": 1}),
    (f'{{"url": "{_WEBHOOK}"}}', {"slack_webhook": 1}),
    # github_token
    (_GITHUB, {"github_token": 1}),
    (f"git clone https://{_GITHUB}@github.com/acme/private.git", {"github_token": 1}),
    (f"GITHUB_TOKEN={_GITHUB_APP}", {"github_token": 1}),
    (f"fine-grained {_GITHUB_PAT} in CI", {"github_token": 1}),
    (f"Authorization: token {_GITHUB}", {"github_token": 1}),
    # stripe_key
    (_STRIPE, {"stripe_key": 1}),
    (f"STRIPE_SECRET_KEY={_STRIPE}", {"stripe_key": 1}),
    (f"stripe.api_key = '{_STRIPE_RESTRICTED}'", {"stripe_key": 1}),
    (f"endpoint secret {_STRIPE_WEBHOOK} rotated", {"stripe_key": 1}),
    # google_api_key
    (f"https://maps.googleapis.com/maps/api/geocode/json?key={_GOOGLE}", {"google_api_key": 1}),
    (f'{{"apiKey": "{_GOOGLE}"}}', {"google_api_key": 1}),
    # openai_key
    (_OPENAI, {"openai_key": 1}),
    (f"OPENAI_API_KEY={_OPENAI_PROJ}", {"openai_key": 1}),
    (f"x-api-key: {_ANTHROPIC}", {"anthropic_key": 1}),
    (f"client = OpenAI(api_key='{_OPENAI}')", {"openai_key": 1}),
    (f"Authorization: Bearer {_OPENAI_PROJ}", {"openai_key": 1}),
    # anthropic_key
    (_ANTHROPIC, {"anthropic_key": 1}),
    (f"ANTHROPIC_API_KEY={_ANTHROPIC_ADMIN}", {"anthropic_key": 1}),
    # gitlab_token
    (_GITLAB, {"gitlab_token": 1}),
    (f"git clone https://oauth2:{_GITLAB}@gitlab.example.com/acme/app.git", {"gitlab_token": 1}),
    (f"PRIVATE-TOKEN: {_GITLAB_ROUTABLE}.", {"gitlab_token": 1}),
    (f"deploy with {_GITLAB_DEPLOY}, runner {_GITLAB_RUNNER}", {"gitlab_token": 2}),
    (f"curl -F token={_GITLAB_TRIGGER} -F ref=main", {"gitlab_token": 1}),
    (f"gitlab-runner register --registration-token {_GITLAB_REGISTRATION}", {"gitlab_token": 1}),
    # sendgrid_key, huggingface_token, pypi_token, npm_token
    (f"SENDGRID_API_KEY={_SENDGRID}", {"sendgrid_key": 1}),
    (f"sg.send failed with {_SENDGRID}: 401", {"sendgrid_key": 1}),
    (f"huggingface-cli login --token {_HUGGINGFACE}", {"huggingface_token": 1}),
    (f"[pypi]\nusername = __token__\npassword = {_PYPI}\n", {"pypi_token": 1}),
    (f"//registry.npmjs.org/:_authToken={_NPM}", {"npm_token": 1}),
    # azure_storage_key
    (
        "DefaultEndpointsProtocol=https;AccountName=acmefake;"
        f"AccountKey={_AZURE_KEY};EndpointSuffix=core.windows.net",
        {"azure_storage_key": 1},
    ),
    (
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=FAKEb3lO++TVhrLtLCHiEGKrEV6XwqcRkelp6EX79Pnd=",
        {"azure_storage_key": 1},
    ),
    (
        "https://acme.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&sp=r"
        "&se=2024-06-01T00:00:00Z&sig=FAKEv3Vth1Ls6v6%2BO9JL8ZsoWw%2FRxl%3D",
        {"azure_storage_key": 1},
    ),
    # twilio_key, mailgun_key, datadog_key
    (f"twilio account {_TWILIO_SID} with key {_TWILIO_KEY}", {"twilio_key": 2}),
    (f"MAILGUN_API_KEY={_MAILGUN}", {"mailgun_key": 1}),
    (f"mailgun rejected {_MAILGUN_NEW} (401)", {"mailgun_key": 1}),
    (f"DD_API_KEY={_DATADOG_API}", {"datadog_key": 1}),
    (f"DD_APP_KEY: {_DATADOG_APP}", {"datadog_key": 1}),
    (
        f"-H 'DD-API-KEY: {_DATADOG_API}' -H 'DD-APPLICATION-KEY: {_DATADOG_APP}'",
        {"datadog_key": 2},
    ),
    # more vendors a secret scanner knows
    (f"SHOPIFY_TOKEN={_SHOPIFY}", {"shopify_token": 1}),
    (f"doctl auth init -t {_DIGITALOCEAN}", {"digitalocean_token": 1}),
    (f"linear key {_LINEAR}", {"linear_key": 1}),
    (f"POST {_DISCORD_WEBHOOK} returned 204", {"discord_webhook": 1}),
    (f"https://api.telegram.org/bot{_TELEGRAM}/sendMessage", {"telegram_token": 1}),
    (f"# created: 2024-05-16\n{_AGE}\n", {"private_key": 1}),
    (f"SQUARE_ACCESS_TOKEN={'sq0' + 'atp-FAKEhxE3pyIgKpaUnArl63'}", {"square_token": 1}),
    (f"VAULT_TOKEN={'hv' + 's.' + 'FAKE' + 'x1Y2z3' * 16}", {"vault_token": 1}),
    (
        f"grafana key {'gl' + 'sa_' + 'FAKEtEkUdfMI7zcpVMw0qDPAjd6OcZFv' + '_a5f61deb'}",
        {"grafana_token": 1},
    ),
    (
        "x-api-key: PM" + "AK-a5f61debc267b0bc8d3b1939-a5f61debc267b0bc8d3b1939a9b4ddbe12",
        {"postman_key": 1},
    ),
    (f"NEW_RELIC_API_KEY={'NR' + 'AK-' + 'FAKE0123456789ABCDEFGHIJKLM'}", {"newrelic_key": 1}),
    (
        f"databricks token {'da' + 'pi' + 'a5f61debc267b0bc8d3b1939a9b4ddbe'}",
        {"databricks_token": 1},
    ),
    (f"jira token {'ATATT' + '3xFfGF0' + 'FAKEv3Vth1Ls6v6O9JL8ZsoWw' * 7}", {"atlassian_token": 1}),
    (
        f"DOPPLER_TOKEN={'dp' + '.pt.' + 'FAKEtEkUdfMI7zcpVMw0qDPAjd6OcZFv1niUabcdefg'}",
        {"doppler_token": 1},
    ),
    (f"mailchimp {'a5f61debc267b0bc8d3b1939a9b4ddbe' + '-us21'} expired", {"mailchimp_key": 1}),
    # cookie
    ("Cookie: sessionid=FAKE0a1b2c3d; csrftoken=abc123", {"cookie": 1}),
    ("Set-Cookie: session=FAKEabcdef123456; Path=/; HttpOnly; Secure", {"cookie": 1}),
    ('{"Cookie": "sid=FAKE0a1b2c3d; theme=dark"}', {"cookie": 1}),
    # secret_field, a JSON object written as text (a draft, a logged body)
    ('{"api_key": "abcdefghijklmnop"}', {"secret_field": 1}),
    ('{"user":"alice","pass":"hunter2"}', {"secret_field": 1}),
    ('{"name": "Authorization", "value": "Token Fake0abc"}', {"secret_field": 1}),
    ('[{"Key":"DB_PASSWORD","Value":"hunter two"}]', {"secret_field": 1}),
    ('{"signing_key": "abcdEFGH1234", "clientSecret": "s3cr3t"}', {"secret_field": 2}),
    ('draft: {\n  "refresh_token": "r-1abc"\n}', {"secret_field": 1}),
    ('body="{\\"ssh_key\\": \\"opaque-Value\\"}"', {"secret_field": 1}),
    (f"rotated password=hunter22 and {_GITHUB}", {"secret_field": 1, "github_token": 1}),
    # secret_field, URL-encoded
    ("next=%2Flogin%3Fuser%3Dalice%26password%3Dhunter2%26remember%3D1", {"secret_field": 1}),
    ("q=pass%3Dp%40ssw0rd", {"secret_field": 1}),
    ("data=%7B%22password%22%3A%22hunter2%22%7D", {"secret_field": 1}),
    ("POST /login user=alice&pass=p%40ss&remember=1", {"secret_field": 1}),
    ("DB_PASS=Fake-pass9", {"secret_field": 1}),
    # cli_password
    ("docker login --username ci --password Fak3Pass registry.example.com", {"cli_password": 1}),
    ("az login -u ci@example.com --password 'two words'", {"cli_password": 1, "email": 1}),
    ("vault login --token=Fake0token9", {"cli_password": 1}),
    ("mysql -h db.internal -u root -phunter2 orders", {"cli_password": 1}),
    ("mysqldump -uroot -p'Fake pass' --all-databases", {"cli_password": 1}),
    ("sshpass -p hunter2 ssh deploy@10.0.0.5", {"cli_password": 1}),
    ("redis-cli -h cache -a Fake0Pass9 ping", {"cli_password": 1}),
    ("curl -u alice:Fake0pass https://api.example.com", {"cli_password": 1}),
    ("keytool -list -keystore k.jks -storepass changeit9", {"cli_password": 1}),
    ("openssl pkcs12 -in c.p12 -passin pass:Fake0pass", {"cli_password": 1}),
    # jwt
    (_JWT, {"jwt": 1}),
    (f"Authorization: Bearer {_JWT}", {"jwt": 1}),
    (f"id_token={_JWT}&state=xyz", {"jwt": 1}),
    (f"unsigned {_JWT_NONE} accepted", {"jwt": 1}),
    (f"https://app.example.com/callback#access_token={_JWT}", {"jwt": 1}),
    # private_key
    (_PEM, {"private_key": 1}),
    (f"key file:\n{_PEM}\nend of file", {"private_key": 1}),
    (_OPENSSH, {"private_key": 1}),
    ("-----BEGIN EC PRIVATE" + " KEY-----\nMHcCAQEEIFakeTruncatedKeyMaterial", {"private_key": 1}),
    (
        "-----BEGIN PGP PRIVATE"
        + " KEY BLOCK-----\nlQOYBFakePGP\n-----END PGP PRIVATE KEY BLOCK-----",
        {"private_key": 1},
    ),
    # authorization
    ("Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", {"authorization": 1}),
    (
        "curl -H 'Authorization: Bearer abc123def456ghi789' https://api.example.com",
        {"authorization": 1},
    ),
    ("authorization: bearer 0a1b2c3d4e5f6a7b8c9d", {"authorization": 1}),
    ("proxy sent BASIC dXNlcjpwYXNzd29yZA==", {"authorization": 1}),
    ("retry with Bearer Fake.Opaque-Token_42 after refresh", {"authorization": 1}),
    ("Authorization: Token 0123abcdFake", {"authorization": 1}),
    ("Authorization: Bearer qwertyuiopasdfgh", {"authorization": 1}),
    ("retry with Bearer qwertyuiopasdfghjk after refresh", {"authorization": 1}),
    ('{"Authorization": "token fakeopaquevalue"}', {"authorization": 1}),
    ("Proxy-Authorization: Fake0Opaque9Value", {"authorization": 1}),
    (
        'Authorization: Digest username="bob", response="6629fae49393a05397450978507c4ef1"',
        {"authorization": 1},
    ),
    # url_password
    ("postgres://app:S3cretPassw0rd@db.internal:5432/orders", {"url_password": 1}),
    ("redis://:hunter2hunter2@cache.internal:6379/0", {"url_password": 1}),
    ("connect failed: mysql://root:toor@10.0.0.5/app (timeout)", {"url_password": 1}),
    ("https://deploy:p%40ss-w0rd@git.example.com/acme/app.git", {"url_password": 1}),
    ("amqp://guest:Gu3st!Pass@mq.example.com:5672/vhost", {"url_password": 1}),
    # secret_field, labelled in text
    ("password=hunter22", {"secret_field": 1}),
    ('{"password": "correct horse"}', {"secret_field": 1}),
    ("db_password: Tr0ub4dor&3", {"secret_field": 1}),
    ("login failed for user=alice passwd=letmein99", {"secret_field": 1}),
    ("client_secret=Fake0ClientSecret9", {"secret_field": 1}),
    ("webhook_token: 7f3a9c1e5b2d", {"secret_field": 1}),
    ("password: correct horse battery staple", {"secret_field": 1}),
    ('login with password="hunter two" failed', {"secret_field": 1}),
    ("passphrase = 'all good things take time'", {"secret_field": 1}),
    ("Server=db.internal;Database=orders;User Id=app;Password=Fake pass 9;", {"secret_field": 1}),
    ("POST /login user=alice&password=hunter two&remember=1", {"secret_field": 1}),
    ('body: "{\\"password\\": \\"hunter two\\"}"', {"secret_field": 1}),
    ("password: Tr0ub4dor&3, user: alice", {"secret_field": 1}),
    ("pwd=hunter2", {"secret_field": 1}),
    ("login user=alice pwd=hunter two", {"secret_field": 1}),
    ('{"user": "alice", "pwd": "Fake pass 9"}', {"secret_field": 1}),
    # secret_field, by dict key
    ({"password": "hunter2"}, {"secret_field": 1}),
    ({"api_key": "abc"}, {"secret_field": 1}),
    ({"headers": {"Authorization": "Bearer opaque"}}, {"secret_field": 1}),
    ({"X-Api-Key": "k-123"}, {"secret_field": 1}),
    ({"clientSecret": "s", "clientId": "public-id"}, {"secret_field": 1}),
    ({"DB_PASSWORD": 123456}, {"secret_field": 1}),
    ({"refresh_token": "r-1", "access_token": "a-1", "token_type": "Bearer"}, {"secret_field": 2}),
    ({"credentials": {"user": "svc", "pass": "x", "port": 22}}, {"secret_field": 3}),
    ({"ssh": {"private_key": "opaque"}}, {"secret_field": 1}),
    ({"secrets": ["one", "two"]}, {"secret_field": 2}),
    # secret_field, a name/value pair naming a secret (logged headers, environment, tags)
    (
        {
            "headers": [
                {"name": "Authorization", "value": "Token Fake0abc"},
                {"name": "Accept", "value": "application/json"},
            ]
        },
        {"secret_field": 1},
    ),
    (
        [{"Key": "DB_PASSWORD", "Value": "hunter2"}, {"Key": "stage", "Value": "prod"}],
        {"secret_field": 1},
    ),
    ({"env": [{"name": "API_KEY", "value": "opaque"}]}, {"secret_field": 1}),
    ({"name": "Set-Cookie", "value": ["sid=abc; HttpOnly", "theme=dark"]}, {"secret_field": 2}),
    ({"user": "alice", "pwd": "hunter2"}, {"secret_field": 1}),
    ({"user": "alice", "pass": "hunter2"}, {"secret_field": 1}),
    ({"DB_PWD": "x", "smtpPwd": "y"}, {"secret_field": 2}),
    (
        {"client_secret": "s", "access_key": "a", "private_key": "p", "credentials": "c"},
        {"secret_field": 4},
    ),
    # email
    ("alice.smith@example.com", {"email": 1}),
    ("Reply to <bob+billing@mail.example.co.uk> today", {"email": 1}),
    ("cc: carol_o'neil@example.org, dave@example.net", {"email": 2}),
    ("mailto:erin@sub.example.io?subject=refund", {"email": 1}),
    ({"customer": {"email": "frank@example.com"}}, {"email": 1}),
    ({"grace@example.com": {"orders": 3}}, {"email": 1}),
    # phone
    ("+1 415 555 0132", {"phone": 1}),
    ("call (415) 555-0198 after 5pm", {"phone": 1}),
    ("mobile: 415.555.0147", {"phone": 1}),
    ("+44 20 7946 0958", {"phone": 1}),
    ("UK office 020 7946 0123 or mobile 07700 900123", {"phone": 2}),
    ("+33 1 23 45 67 89", {"phone": 1}),
    ("tél. 01 23 45 67 89", {"phone": 1}),
    ("Berlin +49 30 901820", {"phone": 1}),
    ("E.164: +14155550132", {"phone": 1}),
    ("Sydney +61 2 9876 5432", {"phone": 1}),
    ("+91 98765 43210", {"phone": 1}),
    ("Tokyo +81 3-1234-5678", {"phone": 1}),
    ("0044 20 7946 0958", {"phone": 1}),
    ("+1 (212) 555-0175", {"phone": 1}),
    ("+44 (0)20 7946 0999", {"phone": 1}),
    # card_number
    ("4111 1111 1111 1111", {"card_number": 1}),
    ("card 4242-4242-4242-4242 exp 12/29", {"card_number": 1}),
    ("5555555555554444", {"card_number": 1}),
    ("amex 3782 822463 10005", {"card_number": 1}),
    ("discover 6011111111111117 declined", {"card_number": 1}),
    ("JCB 3530 1113 3330 0000", {"card_number": 1}),
    ("diners 30569309025904", {"card_number": 1}),
    ("old visa 4222222222222", {"card_number": 1}),
    ("mastercard 2223 0031 2200 3222", {"card_number": 1}),
    ('{"pan": "5105105105105100"}', {"card_number": 1}),
    ("unionpay 6200 0000 0000 0005", {"card_number": 1}),
    ("mir 2200123456789019", {"card_number": 1}),
    # iban
    ("GB82 WEST 1234 5698 7654 32", {"iban": 1}),
    ("IBAN: DE89370400440532013000", {"iban": 1}),
    ("pay to FR14 2004 1010 0505 0001 3M02 606 by Friday", {"iban": 1}),
    ("NL91ABNA0417164300", {"iban": 1}),
    ("ES91 2100 0418 4502 0005 1332 EUR", {"iban": 1}),
    ("IT60X0542811101000000123456", {"iban": 1}),
    ("Norway NO93 8601 1117 947.", {"iban": 1}),
    ("CH93 0076 2011 6238 5295 7 and BE68 5390 0754 7034", {"iban": 2}),
    ("tel:+14155550132", {"phone": 1}),
    ('{"phone":"+44 20 7946 0958"}', {"phone": 1}),
    ("ALICE@EXAMPLE.COM", {"email": 1}),
    ("amex 3782-822463-10005", {"card_number": 1}),
    # custom
    ("see TCK-204816 for context", {"ticket_ref": 1}),
    ("EMP00417 approved the refund", {"employee_id": 1}),
    # several kinds at once
    (
        f"user alice@example.com paid with 4111 1111 1111 1111 using {_OPENAI}",
        {"email": 1, "card_number": 1, "openai_key": 1},
    ),
    (
        {"tool": "crm", "input": {"phone": "+44 20 7946 0958", "api_key": "opaque"}},
        {"phone": 1, "secret_field": 1},
    ),
]

NEGATIVES: Final[list[object]] = [
    # identifiers
    "3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b",
    "run-0d464138-a623-3255-3fc1-ea36f17fd374",
    "3f786850e387550fdab836ed7e6dc881de23001b",
    "commit a94a8fe5 fixed the retry loop",
    "ORD-2024-001234",
    "order #12345678 shipped",
    "INV-000123-A",
    "U0ALICE posted in C0REVIEW (team T00000000)",
    "msg ts 1705312200.123456",
    "epoch ms 1705312200123",
    "4155550132",
    "cus_NffrFeUfNV2Hib",
    # dates, times, versions, addresses
    "2024-01-15",
    "2024-01-15T10:30:00Z",
    "2024-05-04T09:23:07.123456+00:00",
    "15/01/2024 at 10:30:45",
    "01.02.2024",
    "Tue, 16 Jan 2024 08:00:00 GMT",
    "v2.14.1",
    "Python 3.11.7 on linux",
    "node 20.11.0, npm 10.2.4",
    "192.168.1.100",
    "10.0.0.1:8080",
    "203.0.113.45 and 198.51.100.7",
    "2001:db8::8a2e:370:7334",
    "UTC+05:30",
    "37.7749, -122.4194",
    # numbers that are not cards, phones or IBANs
    "4111 1111 1111 1112",
    "1234-5678-9012-3456",
    "5555555555554445",
    "4000000000000001",
    "6011111111111118",
    # Luhn-valid, but no issuer gives out numbers with this prefix and length
    "order 6100123456789011 shipped",
    "invoice 2000123456789011",
    "ref 412345678901233",
    "shipment 3500123456789014",
    "GB82 WEST 1234 5698 7654 33",
    "DE89 3704 0044 0532 0130 01",
    "NL91ABNA0417164301",
    "FR14 2004 1010 0505 0001 3M02 607",
    "$1,234.56",
    "EUR 99.90 incl. VAT",
    "1 234 567 units",
    "12 345 678",
    "total: 1,234,567",
    "ISBN 978-3-16-148410-0",
    "UPS 1Z999AA10123456784",
    "USPS 9400 1000 0000 0000 0000 00",
    "FedEx 7489 2345 6789",
    "score +5.2% week over week",
    "3 + 4 = 7",
    "0000 0000 0000 0000",
    "retry 3 of 5 after 1500 ms",
    # words that look like secrets
    "Each token costs money, so keep prompts short.",
    "The model's token limit is 8192 tokens.",
    "Use a token bucket for rate limiting.",
    "max_tokens=512, temperature=0.2",
    "prompt_tokens: 812, completion_tokens: 143",
    "Token: a unit of text",
    "password reset link sent",
    "Forgot your password? Click reset.",
    "the secret to good triage is patience",
    "password: null, user: alice",
    '{"token": "end of text", "secret": "none"}',
    "passwords rotated: 3, tokens issued: 12",
    "PWD=/home/alice/project OLDPWD=/home/alice",
    "pwd=~/src/app",
    "cd /srv/app && pwd",
    "task-list, risk-free, desk-booking",
    "kiosk-mode-enabled-for-all-terminals",
    "sk-learn is not a package name",
    "keys starting sk_live_ are live-mode keys",
    "the AIza prefix marks Google API keys",
    "the ghp_ prefix marks GitHub tokens",
    "xoxo, the support team",
    "xoxb-your-bot-token",
    "AKIA prefix identifies long-term keys",
    "ASIA-PACIFIC region",
    "Basic authentication is deprecated",
    "authorization: approved",
    "Authorization: declined by issuer",
    "basic responsibilities apply to every role",
    "the bearer of this note",
    "Bearer token required",
    "choose the basic plan",
    "-----BEGIN CERTIFICATE-----\nMIIBfakeCert\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMFkwFakePublic\n-----END PUBLIC KEY-----",
    # base64 and URLs that are not secrets
    "eyJmb28iOiJiYXIifQ==",
    "eyJhbGciOiJIUzI1NiJ9",
    "aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgYSBzZWNyZXQ=",
    "https://example.com/path?a=1&b=2",
    "https://user@example.com/profile",
    "https://example.com:8443/api/v1/runs",
    "postgres://localhost:5432/app",
    "ftp://ftp.example.org/pub/file.txt",
    "see https://api.slack.com/methods/chat.postMessage",
    # near misses for emails
    "user@localhost",
    "icon@2x.png",
    "ping @channel about it",
    "lodash@4.17.21",
    "foo @ bar",
    # what automations log all day
    "latency 834.2 ms, p95 1200 ms",
    "HTTP 429 Too Many Requests; Retry-After: 30",
    "model=gpt-4o-mini-2024-07-18",
    "claude-3-5-sonnet-20241022",
    "temperature: 0.2, top_p: 0.95",
    "trace_id=4d25deb354f46a69 span_id=00f067aa0ba902b7",
    "traceparent 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "image ghcr.io/acme/app:1.4.2",
    'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"',
    "cron 0 */4 * * *",
    'File "tools.py", line 42, in order_lookup',
    "session expires in 3600 seconds",
    "51.5072 N, 0.1276 W",
    "2024-05-16 14:30:00 +0000",
    "<@U0ALICE> approved",
    "TCK-12345 and EMP1234 are too short to be references",
    "| 1 | 2 | 3 |\n|---|---|---|",
    "balance 4000000000 cents",
    # near misses for the newer kinds
    "commit 3f786850e387550fdab836ed7e6dc881de23001b on main",
    "blake2b 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a089f86d081884c7d65",
    "ulid 01HZX3K6PQRS8TVW9XYZ2ABCDE and run_01J8ZQ4M6K9T2V3W4X5Y6Z7A8B",
    "request 9f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b failed",
    "order 2024-118823-7741 shipped",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "md5 a5f61debc267b0bc8d3b1939a9b4ddbe",
    "ACCOUNT a5f61debc267b0bc8d3b1939a9b4ddbe",
    "monkey-a5f61debc267b0bc8d3b1939a9b4ddbe",
    "SG.1 release notes",
    "hf_hub_download(repo_id='acme/model')",
    "npm_config_cache=/tmp/npm",
    "pypi-simple index",
    "glpat- is the GitLab token prefix",
    "docker run -p 8080:80 nginx",
    "ssh -p 2222 deploy@10.0.0.5",
    "mysql -u root -p orders",
    "mysql -P 3306 -h db.internal",
    "mkdir -p /srv/app && cp -a src dst",
    "docker run -u 1000:1000 app",
    "docker login --password-stdin < token.txt",
    "use the --password flag or --token option",
    "psql --password --host db.internal",
    "deploy --token $DEPLOY_TOKEN --secret ${API_SECRET}",
    "ffmpeg -i in.mp4 -pass 1 -f null /dev/null",
    "openssl enc -pass env:PASSPHRASE -in a",
    "--max-tokens 512 --token-limit 4096 --secret-name prod/db",
    "boarding pass: gate 12, seat 4C",
    "bypass=true&first_pass=done",
    "compass%3Dnorth",
    "Cookie: none today",
    "a cookie: chocolate chip",
    '{"token_count": 812, "max_tokens": 512, "secret_name": "prod/db"}',
    '{"password_reset": true, "token_type": "Bearer", "key": "ticket-123"}',
    '{"token": null, "password": ""}',
    "sig=approved by finance",
    "DD_SITE=datadoghq.eu DD_ENV=prod",
    # already redacted
    "[REDACTED:email] wrote in",
    "key=[REDACTED:openai_key]",
    # dicts whose key names are not secrets
    {"token_count": 42, "max_tokens": 512, "prompt_tokens": 812},
    {"password_reset": True, "token_type": "Bearer", "secret_name": "prod/db"},
    {"password_reset_url": "https://example.com/reset", "password_changed_at": "2024-05-01"},
    {"bypass": "cache", "first_pass": "done", "compass": "north", "passenger": "Ann"},
    {"key": "ticket-123", "keyboard": "qwerty", "api_version": "v2", "monkey": "business"},
    {"password": "", "token": None, "api_key": False},
    {"order_id": "ORD-2024-001234", "amount": 1234.56, "items": [1, 2, 3]},
    [{"name": "token_count", "value": 812}, {"name": "Accept", "value": "application/json"}],
    [{"Key": "stage", "Value": "prod"}, {"key": "password_reset_url", "value": "https://x.io"}],
]


def misses(redactor: Redactor) -> list[tuple[object, dict[str, int], dict[str, int]]]:
    """Return each positive whose counts differ from the expected ones, with both counts."""
    wrong = []
    for value, expected in POSITIVES:
        counts = redactor.redact(value).counts
        if counts != expected:
            wrong.append((value, expected, counts))
    return wrong


def false_positives(redactor: Redactor) -> list[tuple[object, object]]:
    """Return each negative that the redactor changed, with what it made of it."""
    changed = []
    for value in NEGATIVES:
        result = redactor.redact(value)
        if result.counts or result.value != value:
            changed.append((value, result.value))
    return changed
