"""Column-wise event log: protocols append vectors of events per round; one DataFrame at the end."""

from __future__ import annotations

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

    ACTOR_COLUMNS = ("sender", "receiver", "proposer", "actor", "winner")

    def to_frame(self) -> pd.DataFrame:
        """All events as one tidy DataFrame (actor and issue indices replaced by ids)."""
        if not self._chunks:
            return pd.DataFrame({"round": pd.Series(dtype="int64"), "kind": pd.Series(dtype="str")})
        frame = pd.concat([pd.DataFrame(chunk) for chunk in self._chunks], ignore_index=True)
        for name in self.ACTOR_COLUMNS:
            if name in frame and pd.api.types.is_integer_dtype(frame[name]):
                index = frame[name].to_numpy()
                frame[name] = np.where(index >= 0, self.actor_ids[np.maximum(index, 0)], None)
        if "issue" in frame and pd.api.types.is_integer_dtype(frame["issue"]):
            frame["issue"] = self.issue_ids[frame["issue"].to_numpy()]
        return frame
