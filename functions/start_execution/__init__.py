"""Starts one per-file execution per upload, named after the file (see naming.py)."""
