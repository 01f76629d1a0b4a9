"""`python -m streams worker`: the Faust worker with every agent of the platform loaded."""
from streams.app import app
import streams.ingest  # noqa: F401  (registers ingest_events)

if __name__ == "__main__":
    app.main()
