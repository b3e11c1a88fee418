"""The four growth questions, shaped for the Growth page and its CLI twin."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pandas as pd

from queries import run

PER_DAY = {"users": "new_users_per_day", "posts": "new_posts_per_day"}
TOTAL = {"users": "total_users", "posts": "total_posts"}


@dataclass(frozen=True)
class Delta:
    current: int
    previous: int

    @property
    def change(self) -> int:
        return self.current - self.previous

    def text(self) -> str:
        """'+12 (+8.5%)'; no percentage when the previous value was 0."""
        if self.previous == 0:
            return f"{self.change:+,} (none before)" if self.change else "no change"
        pct = 100.0 * self.change / self.previous
        return f"{self.change:+,} ({pct:+.1f}%)"


@dataclass(frozen=True)
class Growth:
    totals: dict[str, int]
    per_day: dict[str, pd.DataFrame]
    weekly: dict[str, Delta]
    computed_at: datetime  # the oldest of the parts, UTC
    from_cache: bool  # every part came from the cache
    tz: str
    stale: bool = False  # some part expired and is being refreshed


def growth(*, tz: str | None = None, fresh: bool = False) -> Growth:
    frames = {name: run(name, fresh=fresh) for name in TOTAL.values()}
    per_day = {kind: run(name, fresh=fresh, tz=tz) for kind, name in PER_DAY.items()}
    weekly = run("weekly_new_counts", fresh=fresh, tz=tz)
    parts = [*frames.values(), *per_day.values(), weekly]
    deltas = {row.metric: Delta(int(row.current), int(row.previous)) for row in weekly.itertuples()}
    return Growth(
        totals={kind: int(frames[name]["count"].iloc[0]) for kind, name in TOTAL.items()},
        per_day=per_day,
        weekly=deltas,
        computed_at=min(f.attrs["computed_at"] for f in parts),
        from_cache=all(f.attrs["from_cache"] for f in parts),
        tz=per_day["users"].attrs["params"]["tz"],
        stale=any(f.attrs.get("stale") for f in parts),
    )


def age_seconds(computed_at: datetime) -> float:
    return (datetime.now(timezone.utc) - computed_at).total_seconds()
