"""Development tooling: check, describe, plan, stubs, demo, scratch databases, seed, shell, studio.

Nothing here runs in a service: the runtime modules of `codezest_db` never
import this package (a test holds them to it). The ``codezest-db`` command
imports each tool only when its subcommand runs.
"""
