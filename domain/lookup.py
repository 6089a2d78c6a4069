"""Old path of domain.letters.lookup, kept only while domain/importer.py still imports it from here.

The importer is being moved on another branch; once it imports domain.letters.lookup, delete this.
"""
from domain.letters.lookup import EARLIEST_DATE, MAX_NUMBER_DIGITS  # noqa: F401
