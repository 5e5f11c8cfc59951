"""Threadline user service."""
