"""The hotline's three languages, and how Babel names each (one definition for every part)."""

from __future__ import annotations

# In the order the IVR offers them: Arabic, Kurdish (Sorani), English.
LANGUAGES: tuple[str, ...] = ("ar", "ckb", "en")
# The Babel locale each language formats dates and numbers with.
BABEL_LOCALES: dict[str, str] = {"ar": "ar_IQ", "ckb": "ckb", "en": "en"}
DEFAULT_LANGUAGE = "ar"


def known_language(code: object) -> bool:
    """Whether `code` (as a request, a form or a row gives it) is one of the three."""
    return isinstance(code, str) and code in LANGUAGES


def language_or_default(code: object, default: str = DEFAULT_LANGUAGE) -> str:
    """`code` when it is one of the three, else `default`."""
    return code if known_language(code) else default  # type: ignore[return-value]
