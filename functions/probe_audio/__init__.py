"""Probe state: what is this object and how long does it play, from a few ranged reads."""
