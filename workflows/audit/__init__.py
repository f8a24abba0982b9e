"""The tamper-evident audit log: what is appended to it, how it is verified and exported."""
