"""The automation-facing HTTP API v1: routes, error shapes, lists and the OpenAPI document."""
