"""The survey's answer webhook: one key from 1 to 5, asked again once, then goodbye.

The question itself is asked by the agent's <Dial action> (ivr.agent_leg.agent_done) when
SURVEY_ENABLED is on and the caller is still on the line after the agent hung up.
"""

from __future__ import annotations

from domain.calls.survey import read_score, record_score
from ivr import bp
from ivr.steps import voice_step
from ivr.turn import Turn

SURVEY_TRIES = 2  # a wrong key or silence is asked again once


@bp.post("/survey")
@voice_step("survey")
def survey(turn: Turn, call):
    score = read_score(turn.digits)
    if score is not None:
        kept = record_score(call, score)
        turn.say("survey_thanks").say("goodbye")
        return turn.hang_up(), f"score:{score}" if kept else "already_scored"
    if turn.tries < SURVEY_TRIES:
        turn.say("no_input" if not turn.digits else "invalid_choice").say("survey_ask")
        return turn.ask("ivr.survey", t=turn.tries + 1), "retry"
    turn.say("goodbye")
    return turn.hang_up(), "no_score"
