"""Is every console string translated into Arabic and Kurdish, with its placeholders intact?"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "agent_console" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> set[str]:
    """The strings the code asks for today, extracted as `pybabel extract` does."""
    pot = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def catalog(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("language", ["ar", "ckb"])
def test_every_string_in_the_code_is_translated(source_messages, language):
    translated = {m.id for m in catalog(language) if m.id and m.string and not m.fuzzy}
    missing = sorted(str(m) for m in source_messages - translated)
    assert not missing, f"{language} lacks {len(missing)} translations, e.g. {missing[:5]}"


@pytest.mark.parametrize("language", ["ar", "ckb"])
def test_translations_keep_their_placeholders(language):
    for message in catalog(language):
        if not message.id or not message.string:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), source


@pytest.mark.parametrize("language", ["ar", "ckb"])
def test_compiled_catalog_matches_the_po_file(language):
    def key(value):  # a plural's id and strings come as a list from the .mo, a tuple from the .po
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        compiled = {key(m.id): key(m.string) for m in read_mo(handle) if m.id}
    written = {key(m.id): key(m.string) for m in catalog(language) if m.id and m.string and not m.fuzzy}
    assert compiled == written, "run: pybabel compile -d agent_console/translations"
