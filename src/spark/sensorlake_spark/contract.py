# contract.json (generated from the TypeScript engine by src/spark/contract.ts): the schemas, reason codes, quality
# codes, txn conventions and report keys this job shares with `sensorlake backfill`. Found embedded in the job file,
# inside this package (a zip shipped with --py-files), or beside it in the source tree.

import json
import os
import pkgutil


def load_contract(embedded=None):
    if embedded:
        return embedded if isinstance(embedded, dict) else json.loads(embedded)
    data = None
    try:
        data = pkgutil.get_data("sensorlake_spark", "contract.json")
    except (OSError, FileNotFoundError):
        data = None
    if data is None:
        here = os.path.dirname(os.path.abspath(__file__))
        with open(os.path.join(os.path.dirname(here), "contract.json"), "rb") as fh:
            data = fh.read()
    return json.loads(data.decode("utf-8"))
