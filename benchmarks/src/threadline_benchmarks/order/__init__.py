"""The order service benchmark (make bench-order); see benchmark.py."""
