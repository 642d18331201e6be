"""Durable send records behind one interface: SQLite (embedded) and PostgreSQL.

They hold bulk ledger rows and idempotency keys.
"""
