"""A recorded clip made right for the phone, with ffmpeg: measured, refused with a reason, or
trimmed of its leading and trailing silence, loudness-normalised and encoded as mono MP3.

Runs in the request that uploads the clip: a clip is seconds of speech, measured and converted
in well under a second (see bench/prompt_audio.py), and the admin sees at once why a take was
refused. Every run is bounded by a timeout; nothing but a temporary folder is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

# What Twilio's <Play> plays well: MP3, mono; 16 kHz keeps speech clear and clips small.
SAMPLE_RATE = 16_000
BITRATE = "48k"
TARGET_LUFS = -16.0  # one loudness for every clip (EBU R128 integrated)
TRUE_PEAK_DB = -1.5
SILENCE_DB = -45  # quieter than this is silence, for trimming and for refusing
CLIPPED_SHARE = 0.01  # more than 1% of the samples at full scale: audibly clipped (a few peaks are not)
MIN_SECONDS = 0.3  # of sound after trimming; shorter is no speech at all
TIMEOUT_S = 30
ACCEPTED_SUFFIXES = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".webm", ".m4a", ".mp4", ".aac")


class ClipRefused(Exception):
    """The take is not accepted; `code` says why (the console words it), `detail` adds numbers."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Measurement:
    max_volume_db: float
    mean_volume_db: float
    full_scale_share: float  # of the samples, at 0 dBFS


@dataclass(frozen=True)
class ConvertedClip:
    audio: bytes
    mimetype: str
    duration_ms: int
    loudness_lufs: float | None
    sha256: str


def ffmpeg_path() -> str:
    found = shutil.which("ffmpeg")
    if not found:
        raise ClipRefused("no_converter")
    return found


def run(args: list[str], timeout: float = TIMEOUT_S) -> str:
    """Run ffmpeg or ffprobe; its stderr (where ffmpeg reports), or refused as not audio."""
    try:
        done = subprocess.run(args, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ClipRefused("too_slow") from None
    if done.returncode != 0:
        raise ClipRefused("not_audio")
    return done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace")


def number_after(label: str, text: str, default: float) -> float:
    """The last value ffmpeg printed after `label` (a filter graph may report twice)."""
    found = re.findall(re.escape(label) + r"\s*(-?[\d.]+|-?inf)", text)
    return float(found[-1]) if found else default


TRIM = (
    f"silenceremove=start_periods=1:start_threshold={SILENCE_DB}dB:start_silence=0.05,"
    "areverse,"
    f"silenceremove=start_periods=1:start_threshold={SILENCE_DB}dB:start_silence=0.05,"
    "areverse"
)


def analyse(source: Path, trimmed: Path, max_seconds: float) -> tuple[Measurement, dict]:
    """One ffmpeg run over the upload (at most `max_seconds` and a little more of it): its
    levels (volumedetect: peak, mean, the histogram of full-scale samples), the take trimmed
    of leading and trailing silence as mono WAV, and that take's loudness (loudnorm's first
    pass)."""
    graph = (
        f"[0:a:0]aformat=channel_layouts=mono,asplit=2[levels][take];[levels]volumedetect,anullsink;"
        f"[take]{TRIM},asplit=2[trimmed][loud];[trimmed]aresample=48000[keep];"
        f"[loud]loudnorm=I={TARGET_LUFS}:TP={TRUE_PEAK_DB}:LRA=11:print_format=json[measured]"
    )
    out = run(
        [ffmpeg_path(), "-hide_banner", "-nostats", "-y", "-t", str(max_seconds + 1), "-i", str(source)]
        + ["-filter_complex", graph, "-map", "[keep]", "-c:a", "pcm_s16le", str(trimmed)]
        + ["-map", "[measured]", "-f", "null", "-"]
    )
    samples = number_after("n_samples:", out, 0)
    levels = Measurement(
        max_volume_db=number_after("max_volume:", out, -200.0),
        mean_volume_db=number_after("mean_volume:", out, -200.0),
        full_scale_share=number_after("histogram_0db:", out, 0) / samples if samples else 0.0,
    )
    try:
        found = json.loads(out[out.rindex("{") : out.rindex("}") + 1])
    except ValueError:
        found = {}
    return levels, found


def wav_seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as take:
            return take.getnframes() / take.getframerate()
    except (OSError, EOFError, wave.Error):
        return 0.0


def convert_clip(data: bytes, filename: str, *, max_seconds: float) -> ConvertedClip:
    """An uploaded take (any format ffmpeg reads) as the clip the IVR plays, or ClipRefused."""
    if not data:
        raise ClipRefused("empty")
    suffix = Path(filename or "").suffix.lower()
    with tempfile.TemporaryDirectory(prefix="clip-") as folder:
        source = Path(folder) / ("upload" + (suffix if suffix in ACCEPTED_SUFFIXES else ".bin"))
        source.write_bytes(data)
        trimmed = Path(folder) / "trimmed.wav"
        levels, found = analyse(source, trimmed, max_seconds)
        if levels.max_volume_db <= SILENCE_DB:
            raise ClipRefused("silent", peak=round(levels.max_volume_db, 1))
        if levels.full_scale_share > CLIPPED_SHARE:
            raise ClipRefused("clipped", percent=round(levels.full_scale_share * 100, 2))
        spoken = wav_seconds(trimmed)
        if spoken < MIN_SECONDS or "input_i" not in found or found["input_i"] == "-inf":
            raise ClipRefused("silent", peak=round(levels.max_volume_db, 1))
        if spoken > max_seconds:
            raise ClipRefused("too_long", limit=round(max_seconds))
        target = Path(folder) / "clip.mp3"
        # loudnorm's second pass: corrected linearly from the first pass's measurement (no
        # pumping on a clip of a few words), resampled for the phone, encoded.
        norm = (
            f"loudnorm=I={TARGET_LUFS}:TP={TRUE_PEAK_DB}:LRA=11:linear=true"
            f":measured_I={found['input_i']}:measured_TP={found['input_tp']}"
            f":measured_LRA={found['input_lra']}:measured_thresh={found['input_thresh']}"
            f":offset={found['target_offset']}"
        )
        run(
            [ffmpeg_path(), "-hide_banner", "-nostats", "-y", "-i", str(trimmed), "-af", norm]
            + ["-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "libmp3lame", "-b:a", BITRATE]
            + ["-map_metadata", "-1", str(target)]
        )
        audio = target.read_bytes()
    return ConvertedClip(
        audio=audio,
        mimetype="audio/mpeg",
        duration_ms=round(spoken * 1000),
        loudness_lufs=loudness(found),
        sha256=hashlib.sha256(audio).hexdigest(),
    )


def loudness(found: dict) -> float | None:
    try:
        return float(found["output_i"])
    except (KeyError, ValueError):
        return None
