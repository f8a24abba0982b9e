"""Review metrics: what reviewers did, how sure the automation was, and what to trust next."""
