"""Repositories: small query functions that take a session and never commit."""
