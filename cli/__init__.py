"""The `flask --app wsgi ...` commands of the hotline."""

from flask import Flask


def register(app: Flask) -> None:
    from cli.complaints import complaints
    from cli.demo import demo
    from cli.jobs import api_tokens, housekeeping, worker_command
    from cli.prompts import prompts
    from cli.transactions import transactions
    from cli.users import users
    from simulator.cli import ivr

    for group in (prompts, transactions, complaints, demo, ivr, users, worker_command, housekeeping, api_tokens):
        app.cli.add_command(group)
