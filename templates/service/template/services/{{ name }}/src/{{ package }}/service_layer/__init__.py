"""Use cases: keyword-only async functions over the ports."""
