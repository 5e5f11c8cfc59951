"""Chaos Toolkit controls: code around a whole drill run (load before, clean-up after)."""
