"""`flask demo ...`: demo data for trying the hotline."""
from flask.cli import AppGroup

demo = AppGroup("demo", help="Demo data.")
