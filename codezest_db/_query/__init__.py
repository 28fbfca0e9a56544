"""The query layer: parse ``queries/`` once (aiosql), call with checked parameters, rows to models.

Data flows one way: SQL file -> `QuerySpec` (parse) -> callable (call) ->
psycopg row -> Pydantic model (rows) -> caller.
"""
