"""Frames between ``spice.engine`` and its worker process: pickles prefixed by their length.

Kept apart from ``spice.worker`` so the studio's process reads and writes frames without importing
PySpice (ngspice is only ever loaded in the worker)."""

from __future__ import annotations

import pickle
import struct
from typing import BinaryIO

import numpy as np

HEADER = struct.Struct("<Q")  # a frame's payload length

# a worker's reply: ("ok", {vector name: values}) or ("error", ngspice's complaint)
Reply = tuple[str, dict[str, np.ndarray] | str]


def write_frame(stream: BinaryIO, value: object) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> object | None:
    """The next value, or None at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    return pickle.loads(stream.read(HEADER.unpack(header)[0]))
