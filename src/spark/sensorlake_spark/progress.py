# Progress and the final report as lines on stdout, which the TypeScript CLI relays into its own progress output
# (src/spark/launcher.ts): one JSON object per line after a fixed tag, everything else is Spark's own chatter.

import json
import sys
import time

PROGRESS_TAG = "SENSORLAKE_PROGRESS "
REPORT_TAG = "SENSORLAKE_REPORT "


class Progress:
    """The fields of BackfillProgress (src/backfill/progress.ts), sent whole on every change."""

    def __init__(self, out, bytes_total):
        self.out = out or sys.stdout
        self.total = bytes_total
        self.started = time.time()
        self.state = {"phase": "read", "bytesRead": 0, "bytesTotal": bytes_total, "rowsRead": 0, "windowsDone": 0, "windowsTotal": 0, "rowsWritten": 0}

    def emit(self, **changes):
        if "phase" in changes and changes["phase"] != self.state["phase"]:
            sys.stderr.write("sensorlake spark: phase %s after %.1f s\n" % (changes["phase"], time.time() - self.started))
        self.state.update(changes)
        self.out.write(PROGRESS_TAG + json.dumps(self.state) + "\n")
        self.out.flush()


def print_report(out, report):
    out = out or sys.stdout
    out.write(REPORT_TAG + json.dumps(report) + "\n")
    out.flush()
