"""``handrail stats --html FILE`` opened in a real browser: the page shows its charts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.test_stats_cli import ROOT, handrail


@pytest.fixture
def store_env(tmp_path: Path) -> dict[str, str]:
    """A migrated, empty SQLite store and the example workflows."""
    shutil.copy(ROOT / "workflows.example.yml", tmp_path / "workflows.yml")
    env = {
        **os.environ,
        "HANDRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'handrail.db'}",
        "HANDRAIL_CONFIG": str(tmp_path / "workflows.yml"),
    }
    assert handrail(env, "db", "upgrade").returncode == 0
    return env


async def test_the_report_opens_offline_and_shows_every_chart(
    page: Page, tmp_path: Path, store_env: dict[str, str]
) -> None:
    """Every chart is an image the browser decoded, with its description as alt text."""
    target = tmp_path / "report.html"
    assert handrail(store_env, "stats", "ticket-triage", "--html", str(target)).returncode == 0
    await page.route("http*://**", lambda route: route.abort())
    await page.goto(target.as_uri())
    await expect(page.locator("h1")).to_have_text("Review metrics of ticket-triage")
    images = page.locator("img")
    await expect(images).to_have_count(3)
    widths = await images.evaluate_all(
        "(all) => all.map((img) => img.complete && img.naturalWidth)"
    )
    assert widths == [800, 800, 800]
    await expect(images.first).to_have_attribute(
        "alt", "ticket-triage: handoffs and outcomes per day: none"
    )
