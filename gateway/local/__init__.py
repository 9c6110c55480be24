"""Running Triage's parts as local processes: the demo, and the helpers tests and benchmarks share.

``processes`` starts the simulator, gateways and a real redis-server on free loopback
ports, waits for them, and locates tools and data; ``demo`` is ``triage demo``. Nothing
here is on the request path.
"""
