"""Installed size of the client's dependency set beside the server's, in MB.

Run: .venv/bin/python bench/client_footprint.py

Builds the client's and the server's wheels, installs each alone (with its dependencies)
into a fresh virtualenv, and prints what each added to ``site-packages`` beside the other,
with the number of distributions. pip and setuptools, which every virtualenv starts with,
are not counted. A figure, not a test.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str | Path) -> str:
    return subprocess.run(
        [str(part) for part in command], check=True, capture_output=True, text=True
    ).stdout


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages"))


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def installed(venv: Path, wheel: Path) -> tuple[float, int, list[tuple[str, float]]]:
    """MB added to site-packages by installing ``wheel``, the distributions, the largest."""
    run(sys.executable, "-m", "venv", venv)
    packages = site_packages(venv)
    before = {entry.name for entry in packages.iterdir()}
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    added = [entry for entry in packages.iterdir() if entry.name not in before]
    sizes = sorted(((e.name, size_of(e) / 1e6) for e in added), key=lambda item: -item[1])
    distributions = sum(1 for e in added if e.name.endswith(".dist-info"))
    return sum(size for _, size in sizes), distributions, sizes[:5]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="handrail-footprint-") as temp:
        work = Path(temp)
        run(BIN / "pip", "wheel", "--quiet", "--no-deps", "-w", work, ROOT, ROOT / "client")
        client_wheel = next(work.glob("handrail_client-*.whl"))
        server_wheel = next(work.glob("handrail-*.whl"))
        client = installed(work / "client-venv", client_wheel)
        server = installed(work / "server-venv", server_wheel)
    print("installed into a fresh virtualenv, pip and setuptools not counted")
    for label, (mb, count, largest) in (("client", client), ("server", server)):
        top = ", ".join(f"{name} {size:.1f}" for name, size in largest)
        print(f"{label:<7} {mb:7.1f} MB in {count:3d} distributions   largest: {top}")
    print(f"client / server: {client[0] / server[0]:.0%}")


if __name__ == "__main__":
    main()
