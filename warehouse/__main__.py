"""`python -m warehouse forget-user USER_ID [--yes]`: see warehouse/forget.py.
`python -m warehouse new-metric NAME …`: the migration of a title metric declared in warehouse/metrics.py."""
import sys

from warehouse import forget, metrics

COMMANDS = {"forget-user": forget.main, "new-metric": metrics.main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python -m warehouse {{{'|'.join(COMMANDS)}}} …", file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
