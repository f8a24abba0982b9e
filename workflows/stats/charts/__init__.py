"""Pictures of the review metrics: handoffs and outcomes per day, review time, calibration.

``data`` reads what the pictures show (grouped counts, as the metrics do), ``render``
draws them as PNG with matplotlib, ``html`` wraps them in a self-contained report. Slack
gets the same PNGs through the outbox (``bot.uploads``).
"""
