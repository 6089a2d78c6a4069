"""Database helpers the domain shares: idempotent inserts and locks, SQL time arithmetic, keyset
pages, and where reports read from."""
