"""Routers: classifiers that score how likely a conversation needs the frontier model.

A router decides nothing; it only scores. See ``routers.base`` for the seam and
``routers.registry`` for the names a config may use.
"""
