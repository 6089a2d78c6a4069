"""`flask transactions ...`: loading letters from the records office."""
from flask.cli import AppGroup

transactions = AppGroup("transactions", help="Letters from the records office.")
