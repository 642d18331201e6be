"""Durable send records behind one interface: SQLite (embedded) and PostgreSQL.

For bulk ledger rows and idempotency keys.
"""
