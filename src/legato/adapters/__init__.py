"""Adapters: the Store port on real databases."""
