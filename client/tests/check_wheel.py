"""The client as a stranger installs it: its wheel alone, beside LlamaIndex, against a real server.

Run by ``make check`` (``.venv/bin/python client/tests/check_wheel.py``):

1. builds the server's and the client's wheels, and checks the server's ships neither the
   client nor the Slack emulator;
2. installs the client wheel alone into a fresh virtualenv, beside LlamaIndex's
   ``workflows`` package (``llama-index-workflows``), and checks nothing of the server came
   with it;
3. starts ``handrail serve`` on a free port with a temporary SQLite database, creates a token,
   and runs the README's client example (the block after ``<!-- client-example -->``) in
   that virtualenv with ``HANDRAIL_URL`` and ``HANDRAIL_TOKEN``, then reads the run back.

Downloads go through pip's own cache, so later runs need no network for them. Any failure
prints one line saying what went wrong and exits non-zero.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE_MARK = "<!-- client-example -->"
#: Import names only the server brings; the client's virtualenv must have none of them.
SERVER_ONLY = ("sqlalchemy", "slack_bolt", "alembic", "bot", "store", "sandbox", "handlers")


class CheckFailed(Exception):
    pass


def run(*command: str | Path, **options: object) -> str:
    """Run a command; its output, or ``CheckFailed`` with what it printed."""
    done = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        check=False,
        **options,  # type: ignore[call-overload]
    )
    if done.returncode != 0:
        shown = " ".join(str(part) for part in command)
        raise CheckFailed(f"`{shown}` failed:\n{done.stdout}{done.stderr}")
    return str(done.stdout)


def build_wheels(out: Path) -> tuple[Path, Path]:
    run(BIN / "pip", "wheel", "--quiet", "--no-deps", "-w", out, ROOT, ROOT / "client")
    server = next(out.glob("handrail-*.whl"))
    client = next(out.glob("handrail_client-*.whl"))
    return server, client


def check_server_wheel(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = [n for n in names if n.startswith(("handrail_client/", "sandbox/", "client/"))]
    if shipped:
        raise CheckFailed(f"the server wheel ships the client or the emulator: {shipped[:5]}")


def check_client_wheel(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("handrail_client/py.typed", "handrail_client/__init__.py"):
        if needed not in names:
            raise CheckFailed(f"the client wheel lacks {needed}")
    if not any(n.endswith("LICENSE") for n in names):
        raise CheckFailed("the client wheel carries no LICENSE")
    strays = sorted({n.split("/")[0] for n in names} - {"handrail_client"})
    if [s for s in strays if not s.endswith(".dist-info")]:
        raise CheckFailed(f"the client wheel ships more than handrail_client: {strays}")


def fresh_venv(where: Path, client_wheel: Path) -> Path:
    run(sys.executable, "-m", "venv", where)
    python = where / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", client_wheel, "llama-index-workflows")
    probe = (
        "import importlib.util, workflows, handrail_client\n"
        "assert 'site-packages' in workflows.__file__, workflows.__file__\n"
        f"found = [m for m in {SERVER_ONLY!r} if importlib.util.find_spec(m)]\n"
        "assert not found, f'server packages installed with the client: {found}'\n"
    )
    run(python, "-c", probe, cwd=where)
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_serving(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CheckFailed(f"handrail serve exited: {server.communicate()[1][-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310 - our URL
                return
        except OSError:
            time.sleep(0.2)
    raise CheckFailed(f"handrail serve did not answer on {url} within 60 s")


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(re.escape(EXAMPLE_MARK) + r"\s*```python\n(.*?)```", text, re.DOTALL)
    if found is None:
        raise CheckFailed(f"README.md has no ```python block after {EXAMPLE_MARK}")
    return found.group(1)


def check_example(work: Path, python: Path) -> str:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{work / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(ROOT / "workflows.example.yml"),
        "HANDRAIL_PORT": str(port),
        "HANDRAIL_PUBLIC_URL": url,
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    server = subprocess.Popen(
        [str(BIN / "handrail"), "serve"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(url, server)
        token = run(BIN / "handrail", "token", "create", "ticket-triage", cwd=work, env=env)
        example = work / "example.py"
        example.write_text(readme_example(), encoding="utf-8")
        client_env = {
            "PATH": os.environ.get("PATH", ""),
            "HANDRAIL_URL": url,
            "HANDRAIL_TOKEN": token.strip(),
        }
        printed = run(python, example, cwd=work, env=client_env)
        finished = re.search(r"run (run-\S+) succeeded", printed)
        if finished is None:
            raise CheckFailed(f"the README example did not finish its run: {printed!r}")
        trace = run(BIN / "handrail", "trace", finished.group(1), cwd=work, env=env)
        for step in ("classify", "order_lookup", "tag"):
            if step not in trace:
                raise CheckFailed(f"the run lacks the step {step!r}:\n{trace}")
        return finished.group(1)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="handrail-wheel-check-") as temp:
            work = Path(temp)
            server_wheel, client_wheel = build_wheels(work / "dist")
            check_server_wheel(server_wheel)
            check_client_wheel(client_wheel)
            python = fresh_venv(work / "venv", client_wheel)
            run_id = check_example(work, python)
    except CheckFailed as failure:
        print(f"client wheel check failed: {failure}", file=sys.stderr)
        return 1
    print(
        f"client wheel check passed in {time.monotonic() - started:.0f} s: "
        f"{client_wheel.name} alone beside llama-index-workflows recorded {run_id}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
