"""Example apps, run by ``make run``."""
