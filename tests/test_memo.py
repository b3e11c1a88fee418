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
    import queries.memo as memo

    calls = []

    @per_frame
    def size(frame: pd.DataFrame) -> int:
        calls.append(1)
        return len(frame)

    frame = pd.DataFrame({"a": [1, 2]})
    assert size(frame) == size(frame) == 2 and len(calls) == 1
    key = id(frame)
    # The memo holds the entry while the frame lives and drops it when the frame goes,
    # so a new frame at the same address is never answered from it.
    [store] = [c.cell_contents for c in size.__closure__ if isinstance(c.cell_contents, memo._Memo)]
    assert any(k[0] == key for k in store.kept)
    del frame
    gc.collect()
    assert not any(k[0] == key for k in store.kept)


def test_evicting_an_entry_whose_frame_it_alone_kept_does_not_hang(monkeypatch):
    """Freeing an evicted value may run a finalizer that takes the memo's lock again."""
    import threading

    import queries.memo as memo

    monkeypatch.setattr(memo, "KEPT", 4)

    @per_frame
    def itself(frame: pd.DataFrame) -> pd.DataFrame:
        return frame  # the memo then holds the only reference to the frame

    done = threading.Event()

    def fill() -> None:
        for i in range(12):
            itself(pd.DataFrame({"a": [i]}))
        done.set()

    threading.Thread(target=fill, daemon=True).start()
    assert done.wait(10), "the memo deadlocked on its own lock"
