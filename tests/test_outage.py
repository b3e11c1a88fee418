"""The outage state's log filter (queries/outage.py); the outage on a page is in tests/test_growth_page.py."""

import logging
from datetime import UTC, datetime

from queries.outage import Outage, QuietPoolDuringOutage


def _record(msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord("psycopg.pool", logging.WARNING, __file__, 1, msg, args, None)


def test_the_pools_attempt_lines_are_dropped_only_while_the_outage_is_known():
    outage = Outage()
    quiet = QuietPoolDuringOutage(outage)
    attempt = _record("error connecting in %r: %s", "cruddur-dashboard:reader", "refused")
    gave_up = _record("reconnection attempt in pool %r failed after %s sec", "cruddur-dashboard:reader", 10)
    other = _record("discarding broken connection: %s", "conn")
    assert quiet.filter(attempt) and quiet.filter(gave_up) and quiet.filter(other)  # not known yet: logged
    outage.since = datetime.now(UTC)
    assert not quiet.filter(attempt) and not quiet.filter(gave_up)
    assert quiet.filter(other)
