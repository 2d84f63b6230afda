"""Golden histories: recorded executions replayed against the current code (see record.py)."""
