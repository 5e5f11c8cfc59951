"""Threadline load tests."""
