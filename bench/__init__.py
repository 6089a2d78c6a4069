"""Benchmarks of the hotline: load tests against a real gunicorn and PostgreSQL (see README.md)."""
