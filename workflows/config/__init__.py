"""The workflows' written brief (``workflows.yml``): its model and its rules."""
