"""Development tooling: check (with --plans), describe, stubs, demo, lint, seed, shell, studio.

Nothing here runs in a service: the runtime modules of `codezest_db` never
import this package (a test holds them to it). The ``codezest-db`` command
imports each tool only when its subcommand runs. `catalog` and `nullability`
are the parts of ``check`` that read the schema and a query's generic plan;
`scratch` makes throwaway databases.
"""
