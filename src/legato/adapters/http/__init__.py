"""Legato's HTTP API seen from the other side: the transport the Python ``Client`` and remote
workers share (``transport.py``), and the ports a remote worker implements over it."""
