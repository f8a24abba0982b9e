"""The ``handrail`` command line: serving, the database, data, audit and stats commands."""
