"""Baseline forecasting methods, one file each; importing this package registers them.

``last`` (naive), ``e2e-exp``, ``passrate``, ``powerlaw``, ``sigmoid``, ``bnsl``, ``two-stage`` and ``gadre``.
"""

from benchcast.baselines import bnsl, e2e_exp, gadre, naive, passrate, powerlaw, sigmoid, two_stage  # noqa: F401
