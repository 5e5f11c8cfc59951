"""Threadline order service."""
