"""The load benchmark (make bench, make bench-floor): steps of offered load, found by search."""
