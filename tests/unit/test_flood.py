from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chat.flood import FrameBudget

BUDGET = FrameBudget(limit=3, window_seconds=10)
NOW = 1_800_000_000_000


def run(budget: FrameBudget, times_ms: list[int]) -> list[int]:
    """The times of the frames admitted, feeding the stored TAT back as a store would."""
    tat: int | None = None
    admitted = []
    for now in times_ms:
        admission = budget.admit(tat, now)
        if admission.next_tat_ms is not None:
            tat = admission.next_tat_ms
            admitted.append(now)
    return admitted


def test_a_rested_user_may_send_the_whole_budget_at_once_and_no_more() -> None:
    assert len(run(BUDGET, [NOW] * 10)) == 3


def test_the_refusal_says_exactly_when_the_next_frame_fits() -> None:
    tat = None
    for _ in range(3):
        tat = BUDGET.admit(tat, NOW).next_tat_ms
    refused = BUDGET.admit(tat, NOW)
    assert refused.next_tat_ms is None and refused.retry_after_ms == 3333 - 1
    assert BUDGET.admit(tat, NOW + refused.retry_after_ms - 1).next_tat_ms is None
    assert BUDGET.admit(tat, NOW + refused.retry_after_ms).next_tat_ms is not None


def test_a_steady_sender_at_the_budget_rate_is_never_refused() -> None:
    times = [NOW + i * 3334 for i in range(100)]
    assert run(BUDGET, times) == times


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=60_000), min_size=1, max_size=200))
def test_no_burst_ever_exceeds_the_budget(offsets: list[int]) -> None:
    """However frames arrive, any stretch of time t holds at most limit + t / interval admitted frames."""
    budget = FrameBudget(limit=5, window_seconds=10)
    admitted = run(budget, sorted(NOW + o for o in offsets))
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= budget.limit + (admitted[j] - start) // budget.interval_ms
