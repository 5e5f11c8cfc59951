"""The HTTP edge: routes, wire schemas, dependencies and the one error mapping."""
