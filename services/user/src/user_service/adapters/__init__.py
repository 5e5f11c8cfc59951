"""Adapters: the ports of `service_layer.ports` implemented on PostgreSQL, Redis, argon2, JWT."""
