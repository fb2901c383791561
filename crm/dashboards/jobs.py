"""RQ entry points: thin."""

from rq import get_current_job


def warm_dashboards_job():
    """The periodic warm-up of the managers' pages (scheduled by itself through the worker's scheduler, see
    warming.py): schedule the next run, then compute and cache the numbers."""
    from .warming import continue_chain, dashboards_warm

    current = get_current_job()
    if not continue_chain(current.id if current else None):
        return "not this chain's run (another chain runs, the cache is off, or no manager looked for a while)"
    return dashboards_warm()
