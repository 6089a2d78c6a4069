"""`flask prompts missing`: does it list every Kurdish clip still to record, with its script?"""

from __future__ import annotations

from voice_prompts import catalog


def test_the_complaint_prompts_are_listed_with_their_scripts(runner, app_context):
    result = runner.invoke(args=["prompts", "missing"])
    assert result.exit_code == 0, result.output
    lines = {}
    for line in result.output.splitlines():
        if "\t" in line:
            name, state, script = line.split("\t", 2)
            lines[name] = (state, script)
    assert lines["complaint.ask_code"] == ("missing", catalog("ckb")["complaint.ask_code"])
    assert lines["complaint_status.in_progress"] == ("missing", catalog("ckb")["complaint_status.in_progress"])
    # A prompt with placeholders is recorded as the pieces between them.
    assert lines["complaint.status.1"][1].startswith("دۆخی سکاڵاکەت")
    assert "complaint.status" not in lines
