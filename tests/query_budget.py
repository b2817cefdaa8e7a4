"""Query budgets: a page costs as many queries with a large data set as with a small one.

The rule (../shared/STYLE.md, "Tests") is equality across sizes: a query per row (an N+1)
then shows as a difference, whatever the page's fixed cost. It only shows for the rows the
large data set really has more of, so `large_setup` grows EVERY dimension the page loops
over (members, meetings, groups, answers, marks, invitations, requests, audit rows...)
and the small data set stays small enough that a page showing at most N rows shows fewer
than N of them.

    budget = assert_flat(
        small_setup=lambda: add_members(group, 5),
        large_setup=lambda: add_members(group, 195),
        request=lambda: client.get(url),
        label="roster",
    )

`assert_flat` builds the small data set, makes the request once to fill the caches filled
on first use (the session, permission caches), counts the queries of the same request made
again, then grows the data set and does the same. When the counts differ it raises
AssertionError naming both and listing the queries the large run made more often.

A request that changes something (an RSVP, a mark) must cost the same each time it is
made: `prepare` runs, uncounted, before every request, to put things back or to pick the
next person.

Negative controls (a test that the budget can fail) use `query_per_row`, which makes a
selector run one more query for every row it returns.
"""

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.db import connection
from django.test.utils import CaptureQueriesContext


@dataclass(frozen=True)
class Budget:
    small: int
    large: int


def captured_queries(request: Callable[[], object]) -> tuple[list[str], object]:
    """The SQL of every query `request()` makes, and what it returned."""
    with CaptureQueriesContext(connection) as context:
        result = request()
    return [query["sql"] for query in context.captured_queries], result


def count_queries(request: Callable[[], object]) -> int:
    """How many queries `request()` makes."""
    queries, _result = captured_queries(request)
    return len(queries)


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+\b|SAVEPOINT \"[^\"]+\"")


def _shape(sql: str) -> str:
    """A query without its literal values (and savepoint names), so that the same query
    made for each row is one shape."""
    return _LITERALS.sub("?", sql)


def _measure(name: str, request, prepare, status) -> list[str]:
    for _attempt in ("warm-up", "counted"):
        if prepare is not None:
            prepare()
        queries, response = captured_queries(request)
        code = getattr(response, "status_code", None)
        if status is not None and code is not None:
            assert code == status, f"{name}: expected a {status} response, got {code}"
    return queries


def _difference(name: str, small: list[str], large: list[str]) -> str:
    grown = Counter(map(_shape, large)) - Counter(map(_shape, small))
    extra = "\n".join(f"  {times} more x {sql[:300]}" for sql, times in grown.most_common(5))
    return (
        f"{name}: {len(small)} queries with the small data set, {len(large)} with the large "
        f"one; made more often with the large one:\n{extra}"
    )


def assert_flat(
    small_setup: Callable[[], object],
    large_setup: Callable[[], object],
    request: Callable[[], object] | Mapping[str, Callable[[], object]],
    *,
    prepare: Callable[[], object] | None = None,
    status: int | None = 200,
    label: str = "request",
) -> Budget | dict[str, Budget]:
    """Count `request()` after `small_setup()` and again after `large_setup()`: equal, or
    AssertionError naming both counts. Returns them, and prints them for `pytest -s`.

    `request` may be a mapping of names to requests, measured on the same two data sets
    (built once); then every one must be flat, and a Budget per name comes back.
    """
    requests = request if isinstance(request, Mapping) else {label: request}
    small_setup()
    small = {name: _measure(name, call, prepare, status) for name, call in requests.items()}
    large_setup()
    large = {name: _measure(name, call, prepare, status) for name, call in requests.items()}
    budgets = {name: Budget(small=len(small[name]), large=len(large[name])) for name in requests}
    for name, budget in budgets.items():
        print(f"query budget {name}: {budget.small} queries small, {budget.large} large")
    failures = [
        _difference(name, small[name], large[name])
        for name, budget in budgets.items()
        if budget.small != budget.large
    ]
    if failures:
        raise AssertionError("\n".join(failures))
    return budgets if isinstance(request, Mapping) else budgets[label]


def select_one(_row) -> None:
    """One query: what an N+1 costs for each row, whatever it reads."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def query_per_row(
    monkeypatch,
    owner,
    name: str,
    *,
    rows: Callable[[object], Iterable] = lambda result: result,
    touch: Callable[[object], None] = select_one,
) -> None:
    """Negative control: after `owner.name(...)` returns, run `touch(row)` (one query by
    default) for each row in `rows(result)`; the caller gets the same result."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def with_a_query_per_row(*args, **kwargs):
        result = original(*args, **kwargs)
        for row in rows(result):
            touch(row)
        return result

    monkeypatch.setattr(owner, name, with_a_query_per_row)
