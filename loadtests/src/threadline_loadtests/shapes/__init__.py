"""Load shapes: how many users over a run, as a share of `--users` over `--run-time`.

Each shape lives in a module of its own holding just that class, because Locust uses the
first shape class it finds in a locustfile: add one with
`locust -f locustfile.py,shapes/spike.py` (`make load SHAPE=spike`).
"""
