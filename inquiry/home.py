"""GET /: where a visitor starts: look up a letter, call 5599, or sign in to the console."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from inquiry.routes import chosen_language, texts_of

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def index():
    lang = chosen_language()
    development = current_app.config["APP_ENV"] in {"development", "testing"}
    return render_template("inquiry/home.html", lang=lang, t=texts_of(lang), development=development)
