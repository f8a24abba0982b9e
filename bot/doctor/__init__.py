"""``handrail doctor``: check a deployment against reality and print the fix for each problem.

``checkup`` runs the checks (``slack``: token, scopes, channels, people; ``deployment``:
mode, database, URLs), each returning ``findings``; ``render`` prints them; ``command`` is
the CLI glue; ``startup`` runs the short form when ``handrail serve`` starts.
"""
