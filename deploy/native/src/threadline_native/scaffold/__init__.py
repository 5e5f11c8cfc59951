"""`make new-service` and `make remove-service`: a service from templates/service, registered
everywhere the stack needs it, and taken out again byte for byte.

    python -m threadline_native.scaffold new payment --kind grpc [--port P --admin-port A]
    python -m threadline_native.scaffold remove payment
    python -m threadline_native.scaffold register payment   # copier's task, after `copier copy`

`spec` checks the name, the kind and the ports before anything is written; `render` runs copier
into a scratch directory and moves the result in; `registrations` edits the shared files (each
one a small structural edit: TOML with tomlkit, YAML with ruamel.yaml, JSON); `transaction`
snapshots every file it touches and puts them back when any step fails.
"""
