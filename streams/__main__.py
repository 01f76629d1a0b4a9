"""`python -m streams worker`: the Faust worker with every agent of the platform loaded."""
from streams.app import app
import streams.ingest  # noqa: F401  (registers ingest_events)
import streams.trends  # noqa: F401  (registers detect_surges)

if __name__ == "__main__":
    import gc

    from streams.fetch import build_plain_records
    build_plain_records()
    gc.freeze()      # the modules loaded so far are never collected
    gc.disable()     # a batch allocates ~10 objects per message; cycles are collected on a timer (streams/app.py)
    app.main()
