"""The PostgreSQL store: psycopg 3, a connection pool, group commit, SKIP LOCKED claims."""

from legato.adapters.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
