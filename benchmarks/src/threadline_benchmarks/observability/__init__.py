"""The observability library's overhead benchmarks (make bench-observability)."""
