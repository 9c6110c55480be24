"""Policies: pure functions that turn a router score plus state into a route.

No I/O, no clock reads: everything a policy needs arrives as an argument.
"""
