"""`flask prompts missing`: does it list every Kurdish clip still to record, with its script?"""

from __future__ import annotations

from voice_prompts import catalog


def test_the_complaint_prompts_are_listed_with_their_scripts(runner, app_context):
    result = runner.invoke(args=["prompts", "missing"])
    assert result.exit_code == 0, result.output
    lines = {}
    for line in result.output.splitlines():
        if "\t" in line:
            path, script = line.split("\t", 1)
            lines[path.rsplit("/", 1)[-1]] = script
    assert lines["complaint.ask_code.mp3"] == catalog("ckb")["complaint.ask_code"]
    assert lines["complaint_status.in_progress.mp3"] == catalog("ckb")["complaint_status.in_progress"]
    # A prompt with placeholders is recorded as the pieces between them.
    assert lines["complaint.status.1.mp3"].startswith("دۆخی سکاڵاکەت")
    assert "complaint.status.mp3" not in lines
