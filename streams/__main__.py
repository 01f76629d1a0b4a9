"""`python -m streams worker`: the Faust worker with every agent of the platform loaded."""
from streams.app import app
import streams.title_starts  # noqa: F401  (registers its agent)

if __name__ == "__main__":
    app.main()
