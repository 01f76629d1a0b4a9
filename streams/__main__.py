"""`python -m streams worker`: the Faust worker with every agent of the platform loaded."""
from streams.app import app
import streams.ingest  # noqa: F401  (registers ingest_events)
import streams.trends  # noqa: F401  (registers detect_surges)

if __name__ == "__main__":
    import gc
    gc.freeze()                          # the modules loaded so far are never collected
    gc.set_threshold(200_000, 50, 100)   # a batch allocates ~10 objects per message: collect rarely
    app.main()
