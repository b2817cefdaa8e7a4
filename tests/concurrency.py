"""Run calls at the same instant from several threads, for race tests on PostgreSQL."""

import threading
from collections.abc import Callable

from django.db import connection


def run_at_once(calls: list[Callable]) -> list:
    """Run each callable in its own thread, all released by one barrier.

    Returns, in the order of `calls`, what each returned or the exception it raised.
    Each thread has its own database connection and closes it when done.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return outcomes
