"""The user service benchmark (make bench-user); see benchmark.py."""
