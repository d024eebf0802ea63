"""Storage: SQLModel tables, the engine, Alembic migrations and query functions.

Every query and update function takes `session` as a keyword argument; callers own the
transaction.
"""
