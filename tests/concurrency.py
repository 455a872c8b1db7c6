"""Running actions at the same moment, for the tests of concurrent transactions on
PostgreSQL (the last bed, the last place at an event)."""

import threading

from django.db import connection


def race(*calls):
    """Run the calls at the same moment, each in its own thread and connection;
    returns, in order, ``("ok", result)`` or ``("refused", exception)`` for each."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcomes[i] = ("refused", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes
