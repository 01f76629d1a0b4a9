"""`python -m streams worker`: the Faust worker with every agent of the platform loaded."""
from streams.app import app
import streams.ingest  # noqa: F401  (registers ingest_events)
import streams.trends  # noqa: F401  (registers detect_surges)

if __name__ == "__main__":
    app.main()
