"""Data lifecycle: retention, erasure on request and export."""
