"""Kits sent down the tree and roll-ups up it."""
