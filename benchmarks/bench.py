"""The state of one benchmark run: its options, its clock, its notes; and the log."""

import os
import sys
import time


def log(message):
    """Progress to stderr (the report goes to stdout)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Bench:
    """Options of one run, when it started, and the notes its report will carry."""

    def __init__(self, args):
        self.args = args
        self.started = time.perf_counter()
        self.load_start = os.getloadavg()[0]
        self.notes = []

    def selected(self, contenders):
        """The contenders allowed by ``--ours`` and ``--theirs``."""
        allowed = {"ours": self.args.ours, "sklearn": self.args.theirs}
        return [c for c in contenders if allowed[c.side] is None or c.solver in allowed[c.side]]

    def over_budget(self):
        """Whether ``--budget`` seconds have passed: then no further repeats start."""
        return time.perf_counter() - self.started > self.args.budget

    def skip_repeats(self, tag):
        """Note and log that row ``tag`` got fewer repeats than asked."""
        self.notes.append(f"time budget reached: {tag} got fewer repeats than asked.")
        log(f"{tag}: time budget reached, skipping further repeats")
