"""Baseline forecasting methods, one file each; importing this package registers them."""

from benchcast.baselines import naive  # noqa: F401
