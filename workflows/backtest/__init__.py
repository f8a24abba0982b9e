"""Policy backtests: re-decide the gate questions a window recorded under a proposed brief.

``inputs`` is what the gate keeps so a question can be re-decided; ``replay`` re-decides
one; ``report`` adds them up; ``scan`` streams them from the store; ``promotion`` ties a
recorded backtest to the mode change it justified, in the audit log.
"""
