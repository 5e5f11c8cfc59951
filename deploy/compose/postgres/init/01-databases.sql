-- One database per service on one server (DESIGN.md §2). Idempotent: compose runs it once at
-- init, the native stack on every start; \gexec runs each generated statement.
SELECT format('CREATE DATABASE %I', name)
FROM (VALUES ('users'), ('orders')) AS wanted(name)
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = wanted.name)
\gexec
