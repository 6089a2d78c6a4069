"""Recorded prompts for tests: audio made with ffmpeg's own generators (lavfi), measured with
ffprobe and ebur128, and approved clips put straight in the database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from flask import current_app

from domain.clock import utcnow
from extensions import db
from models import PromptRecording

# Two seconds of a quiet tone between silences: a stand-in for a voice saying a few words.
SPEECH = "sine=frequency=330:sample_rate=44100:duration=2,volume=-14dB,adelay=700,apad=pad_dur=0.8"
SILENCE = "anullsrc=r=16000:cl=mono,atrim=duration=3"
CLIPPED = "sine=frequency=330:sample_rate=16000:duration=2,volume=30dB"


def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    assert path, "ffmpeg is needed (scripts/test installs it)"
    return path


def generated_audio(source: str = SPEECH, suffix: str = ".wav", *, seconds: float | None = None, stereo=True) -> bytes:
    """Audio from a lavfi filter graph, encoded by its file suffix (wav, mp3, ogg, webm, m4a)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"take{suffix}"
        args = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source]
        if seconds is not None:
            args += ["-t", str(seconds)]
        if stereo:
            args += ["-ac", "2"]
        subprocess.run([*args, str(out)], check=True, timeout=30)
        return out.read_bytes()


def probe(audio: bytes) -> dict:
    """codec, channels, sample rate, duration and integrated loudness of an audio file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip"
        path.write_bytes(audio)
        info = json.loads(
            subprocess.run(
                [shutil.which("ffprobe") or "ffprobe", "-v", "error", "-show_entries"]
                + ["stream=codec_name,channels,sample_rate:format=duration", "-of", "json", str(path)],
                check=True,
                capture_output=True,
                timeout=30,
            ).stdout
        )
        loud = subprocess.run(
            [ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
            capture_output=True,
            timeout=30,
        ).stderr.decode()
    stream = info["streams"][0]
    return {
        "codec": stream["codec_name"],
        "channels": stream["channels"],
        "rate": int(stream["sample_rate"]),
        "seconds": float(info["format"]["duration"]),
        "lufs": float(re.findall(r"I:\s*(-?[\d.]+) LUFS", loud)[-1]),
    }


def approve_clips(names, language: str = "ckb", audio: bytes = b"ID3-test") -> dict[str, int]:
    """Approved (live) takes of these clips, committed; {name: take id}."""
    takes = {}
    for name in names:
        take = PromptRecording(
            language=language,
            name=name,
            audio=audio,
            sha256=f"{len(takes):064d}",
            duration_ms=1000,
            recorded_by="test",
            is_current=True,
            is_live=True,
            approved_by="test",
            approved_at=utcnow(),
        )
        db.session.add(take)
        db.session.flush()
        takes[name] = take.id
    db.session.commit()
    current_app.extensions.pop("hotline.approved_clips", None)
    return takes
