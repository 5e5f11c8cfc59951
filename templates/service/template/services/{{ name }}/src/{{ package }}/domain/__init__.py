"""Entities, value objects and errors: plain Python, no framework."""
