"""Prometheus metrics, one registry per process or shared across ``serve --workers``."""
