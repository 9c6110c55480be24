"""Offline training, export and distillation for the routers (needs the ``dev`` extra).

Nothing here is imported at run time: the gateway only loads the artifacts these
scripts write.
"""
