"""Is an uploaded take made right for the phone (mono MP3, one loudness, silence trimmed), and
is a take that is silent, clipped, far too long or no audio at all refused with its reason?"""

from __future__ import annotations

import pytest

from domain.prompts.audio import SAMPLE_RATE, TARGET_LUFS, ClipRefused, convert_clip
from tests.support.prompts import CLIPPED, SILENCE, SPEECH, generated_audio, probe


@pytest.mark.parametrize("suffix", [".wav", ".webm", ".m4a", ".ogg", ".mp3"])
def test_a_take_becomes_mono_mp3_at_one_loudness_with_its_silences_trimmed(suffix):
    source = generated_audio(SPEECH, suffix)  # 0.7 s silence, 2 s of tone at -32 dBFS, 0.8 s silence
    clip = convert_clip(source, f"take{suffix}", max_seconds=30)
    found = probe(clip.audio)
    assert (found["codec"], found["channels"], found["rate"]) == ("mp3", 1, SAMPLE_RATE)
    assert 1.8 < found["seconds"] < 2.4  # the 1.5 s of silence around it trimmed
    assert abs(found["lufs"] - TARGET_LUFS) < 1.5  # raised from about -35 LUFS
    assert 1800 < clip.duration_ms < 2300


def test_a_loud_and_a_quiet_take_end_at_the_same_loudness():
    quiet = convert_clip(generated_audio(SPEECH.replace("-14dB", "-18dB")), "q.wav", max_seconds=30)
    loud = convert_clip(generated_audio(SPEECH.replace("-14dB", "10dB")), "l.wav", max_seconds=30)
    assert abs(probe(quiet.audio)["lufs"] - probe(loud.audio)["lufs"]) < 1.0


@pytest.mark.parametrize(
    ("source", "seconds", "code"),
    [
        (SILENCE, None, "silent"),
        (CLIPPED, None, "clipped"),
        ("sine=frequency=330:sample_rate=8000:duration=45", None, "too_long"),
        ("sine=frequency=330:sample_rate=8000:duration=600", None, "too_long"),
    ],
)
def test_a_bad_take_is_refused_with_its_reason(source, seconds, code):
    with pytest.raises(ClipRefused) as refused:
        convert_clip(generated_audio(source, ".mp3", seconds=seconds), "take.mp3", max_seconds=30)
    assert refused.value.code == code


@pytest.mark.parametrize("data", [b"", b"just some text, not audio", b"RIFF\x00\x00\x00\x00WAVEfmt garbage"])
def test_what_is_not_audio_is_refused(data):
    with pytest.raises(ClipRefused) as refused:
        convert_clip(data, "take.wav", max_seconds=30)
    assert refused.value.code in {"empty", "not_audio"}
