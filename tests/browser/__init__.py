"""Tests that drive pages in a real browser (Debian's chromium through Playwright)."""
