"""The package version: the one place it is written (pyproject.toml reads it from here).

Bump it with every change under db/migrations/, add a CHANGELOG.md entry, and
record the migrations' checksums for it (see docs/migrations.md, "Versioning").
"""

__version__ = "0.4.0"
