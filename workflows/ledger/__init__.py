"""The run ledger: runs and their steps, a run's story, traces, listings and status."""
