"""Shared observability library (filled in by issue 3)."""
