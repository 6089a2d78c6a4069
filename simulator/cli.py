"""`flask ivr simulate`: a call in the terminal."""
from flask.cli import AppGroup

ivr = AppGroup("ivr", help="The voice IVR.")
