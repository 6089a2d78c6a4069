"""The WSGI entry point that gunicorn serves as `wsgi:app`."""

from factory import create_app

app = create_app()
