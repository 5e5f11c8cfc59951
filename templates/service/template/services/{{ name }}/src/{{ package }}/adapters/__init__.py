"""Tables, repository, unit of work and migrations on PostgreSQL."""
