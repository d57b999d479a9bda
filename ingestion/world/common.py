"""Helpers shared by the world's modules: seeded random streams, time, names, and byte-stable writers."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DAY = 86_400


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """An independent generator per part of the world, so changing one part never reshuffles another."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


@dataclass(frozen=True)
class Window:
    """The days the world covers: start_date .. end_date inclusive, as dates and as epoch seconds."""

    start_date: dt.date
    end_date: dt.date

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def start(self) -> int:
        return date_to_epoch(self.start_date)

    @property
    def end(self) -> int:
        """Epoch second just after the last day (exclusive bound)."""
        return date_to_epoch(self.end_date) + DAY

    def day(self, index: int) -> dt.date:
        return self.start_date + dt.timedelta(days=int(index))

    def weekday_of(self, day_index: np.ndarray) -> np.ndarray:
        """0 = Monday .. 6 = Sunday for window day indexes."""
        return (day_index + self.start_date.weekday()) % 7


def date_to_epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())


def iso_seconds(epoch: np.ndarray) -> list[str]:
    """Epoch seconds → ['2025-01-31T09:15:02Z', ...] (vectorised)."""
    text = np.datetime_as_string(np.asarray(epoch, dtype="int64").astype("datetime64[s]"), unit="s")
    return [value + "Z" for value in text.tolist()]


def iso_millis(epoch_ms: np.ndarray) -> list[str]:
    text = np.datetime_as_string(np.asarray(epoch_ms, dtype="int64").astype("datetime64[ms]"), unit="ms")
    return [value + "Z" for value in text.tolist()]


def iso_one(epoch: int) -> str:
    return iso_seconds(np.array([epoch]))[0]


def epoch_to_date(epoch: int) -> dt.date:
    return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()


def ascii_slug(text: str, keep: str = "") -> str:
    """'Søren O'Brien' → 'sorenobrien': lower-case ASCII letters and digits (plus `keep` characters)."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l"))
    return "".join(ch for ch in folded.lower() if ch.isascii() and (ch.isalnum() or ch in keep))


def weighted_choice(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    weights = np.asarray(weights, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def random_case(rng: np.random.Generator, text: str) -> str:
    """Mess a value the way people type it: Title-case parts, ALL CAPS, or random letters upper-cased."""
    style = rng.integers(3)
    if style == 0:
        local, _, domain = text.partition("@")
        parts = local.split(".")
        return ".".join(part[:1].upper() + part[1:] for part in parts) + ("@" + domain if domain else "")
    if style == 1:
        return text.upper()
    flips = rng.random(len(text)) < 0.3
    return "".join(ch.upper() if flip else ch for ch, flip in zip(text, flips))


def hex_token(rng: np.random.Generator, n_chars: int) -> str:
    return rng.bytes((n_chars + 1) // 2).hex()[:n_chars]


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_tokens(rng: np.random.Generator, count: int, n_chars: int) -> list[str]:
    digits = rng.integers(0, 62, size=(count, n_chars))
    alphabet = np.array(list(BASE62))
    return ["".join(row) for row in alphabet[digits].tolist()]


def unique_ints(rng: np.random.Generator, count: int, low: int, mean_gap: int) -> np.ndarray:
    """`count` distinct, increasing ints starting near `low`, then shuffled (ids that look allocated over time)."""
    ids = low + np.cumsum(rng.integers(1, 2 * mean_gap, size=count))
    return rng.permutation(ids).astype("int64")


# ----------------------------------------------------------------------------- writers (byte-stable)
def write_parquet(path: Path, columns: dict[str, list | np.ndarray], schema: pa.Schema) -> None:
    """Columns in schema order; no pandas metadata; fixed codec and row groups, so bytes depend on data only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = [pa.array(columns[field.name], type=field.type) for field in schema]
    table = pa.Table.from_arrays(arrays, schema=schema)
    pq.write_table(table, path, compression="zstd", compression_level=3, use_dictionary=True,
                   write_statistics=True, row_group_size=1_000_000, version="2.6")


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
