"""queries/memo.py: a cached answer is shaped once, and a new answer is shaped anew."""

import gc

import pandas as pd

from queries import reads
from queries.memo import per_answer, per_frame
from tests.helpers import add_user


def test_an_answer_is_shaped_once_per_answer_and_again_when_it_changes(db):
    calls = []

    @per_answer
    def count_of(frame: pd.DataFrame) -> int:
        calls.append(1)
        return int(frame["count"].iloc[0])

    reads.run("total_users")  # computed (from_cache False): then served from the cache
    first = count_of(reads.run("total_users"))
    assert count_of(reads.run("total_users")) == first and len(calls) == 1  # cache hits: one answer
    add_user(db, "memo")
    assert count_of(reads.run("total_users", fresh=True)) == first + 1 and len(calls) == 2
    assert count_of(reads.run("total_users")) == first + 1 and len(calls) == 3  # the new answer, cached
    derived = reads.run("total_users").assign(extra=1)  # pandas keeps attrs: the columns tell it apart
    count_of(derived)
    assert len(calls) == 4
    assert count_of(pd.DataFrame({"count": [7]})) == 7  # no answer stamp: shaped every time


def test_a_frames_memo_goes_with_the_frame():
    calls = []

    @per_frame
    def size(frame: pd.DataFrame) -> int:
        calls.append(1)
        return len(frame)

    frame = pd.DataFrame({"a": [1, 2]})
    assert size(frame) == size(frame) == 2 and len(calls) == 1
    del frame
    gc.collect()
    assert size(pd.DataFrame({"a": [1, 2, 3]})) == 3  # a new frame may reuse the id: never the old value
