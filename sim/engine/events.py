"""Column-wise event log: protocols append vectors of events per round; one DataFrame at the end."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd


class EventLog:
    """Append-only table of events. Each ``add`` takes equal-length arrays (or scalars) per column;
    actor and issue columns given as indices are turned into ids when the frame is built."""

    def __init__(self, actor_ids: tuple[str, ...], issue_ids: tuple[str, ...]):
        self.actor_ids = np.array(actor_ids, dtype=object)
        self.issue_ids = np.array(issue_ids, dtype=object)
        self._chunks: list[dict[str, Any]] = []
        self._rows = 0

    def __len__(self) -> int:
        return self._rows

    def add(self, **columns: Any) -> None:
        """Append events; array columns must share one length, scalars are repeated."""
        lengths = {np.size(v) for v in columns.values() if isinstance(v, np.ndarray)}
        length = lengths.pop() if lengths else 1
        self._chunks.append({name: (np.asarray(value) if isinstance(value, np.ndarray)
                                    else [value] * length) for name, value in columns.items()})
        self._rows += length

    def _rows_frame(self) -> pd.DataFrame:
        """The chunks as one frame: consecutive chunks with the same columns are joined column by
        column (one frame per run of them, not one per chunk; pandas infers the same dtypes)."""
        groups: list[list[dict[str, Any]]] = []
        for chunk in self._chunks:
            if groups and list(groups[-1][0]) == list(chunk):
                groups[-1].append(chunk)
            else:
                groups.append([chunk])
        frames = []
        for group in groups:
            columns = {}
            for name in group[0]:
                parts = [chunk[name] for chunk in group]
                if all(isinstance(part, list) for part in parts):
                    columns[name] = list(itertools.chain.from_iterable(parts))
                elif all(isinstance(part, np.ndarray) for part in parts):
                    columns[name] = np.concatenate(parts)
                else:  # a column given as an array in one chunk and a scalar in another
                    columns = None
                    break
            frames.extend([pd.DataFrame(columns)] if columns is not None
                          else [pd.DataFrame(chunk) for chunk in group])
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    ACTOR_COLUMNS = ("sender", "receiver", "proposer", "actor", "winner")

    def to_frame(self) -> pd.DataFrame:
        """All events as one tidy DataFrame (actor and issue indices replaced by ids)."""
        if not self._chunks:
            return pd.DataFrame({"round": pd.Series(dtype="int64"), "kind": pd.Series(dtype="str")})
        frame = self._rows_frame()
        for name in self.ACTOR_COLUMNS:
            if name in frame and pd.api.types.is_integer_dtype(frame[name]):
                index = frame[name].to_numpy()
                frame[name] = np.where(index >= 0, self.actor_ids[np.maximum(index, 0)], None)
        if "issue" in frame and pd.api.types.is_integer_dtype(frame["issue"]):
            frame["issue"] = self.issue_ids[frame["issue"].to_numpy()]
        return frame
