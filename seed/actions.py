"""The seed actions shared by the Admin page and `python -m seed`: each checks the
production guard (demo data and resets never go to production, under any
spelling of its URL), writes in one writer-pool transaction, and invalidates
the cached growth results it changes."""

from __future__ import annotations

from collections.abc import Callable

from actions.writing import writing
from db.guard import require_not_production
from db.logs import logger
from db.statements import execute
from queries.reads import fetch
from seed.generate import GenerateResult, generate
from seed.sample import load_sample

log = logger("cruddur.admin")
TABLES = ("users", "activities")


def row_counts() -> tuple[int, int]:
    """(users, activities), exact and uncached."""
    row = fetch("admin.row_counts").iloc[0]
    return int(row["users"]), int(row["activities"])


def seed_sample(*, by: str = "cli") -> tuple[int, int]:
    """Add the original sample rows that are missing; returns (users, activities) added."""
    require_not_production("load the sample seed")
    with writing(*TABLES) as conn:
        added = load_sample(conn)
    log.info("%s loaded the sample seed: %d user(s), %d activity(ies) added", by, *added)
    return added


def seed_generate(
    *, users: int, posts: int, days: int, seed: int, progress: Callable[[int, int], None] | None = None, by: str = "cli"
) -> GenerateResult:
    """Add synthetic users and posts (COPY); existing rows are kept."""
    require_not_production("generate synthetic data")
    with writing(*TABLES) as conn:
        result = generate(conn, users=users, posts=posts, days=days, seed=seed, progress=progress)
    log.info(
        "%s generated %d users and %d posts at %.0f rows/s", by, result.users, result.posts, result.rows_per_second
    )
    return result


def reset(*, confirmed: bool, by: str = "cli") -> None:
    """Empty users and activities. Refuses unless `confirmed`."""
    if not confirmed:
        raise ValueError("Reset deletes every user and activity: confirm it first. Nothing was deleted.")
    require_not_production("reset the users and activities tables")
    with writing(*TABLES) as conn:
        execute(conn, "seed.reset", allow="write")
    log.info("%s reset the users and activities tables", by)
