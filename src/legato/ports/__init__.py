"""Ports: the small interfaces the engine needs from the outside world."""
