# sensorlake's backfill as a PySpark job (pyspark 3.5.6, delta-spark 3.3.2, spark-avro 3.5.6): the same lake layout,
# rules, dedup, txn idempotence and JSON summary as `sensorlake backfill` (src/backfill), from contract.json.
#
#   spark-submit --py-files sensorlake_spark.zip backfill_job.py --source s3://bucket/exports/ --lake s3://bucket/lake \
#       [--format csv] [--sensors s3://bucket/sensors.csv] [--window 1d] [--mode merge|replace] [--from ...] [--to ...]
#   spark-submit ... backfill_job.py --plan plan.json            (what `sensorlake backfill --engine spark` runs)
#   spark-submit ... backfill_job.py --plan a.json --plan b.json (several jobs in turn, one Spark application)
#   spark-submit ... backfill_job.py --stream --landing DIR --lake DIR --checkpoint DIR --format csv [--trigger 10 seconds]
#
# Prints progress lines and the report as tagged JSON lines on stdout. Exit codes as the CLI's: 0 ok, 1 failed,
# 2 bad usage, 3 finished with quarantined records.

import argparse
import json
import os
import re
import sys
import tempfile
import traceback
import zipfile

try:
    from sensorlake_spark import contract as _shipped  # noqa: F401 - with --py-files the driver runs the executors' code
except ImportError:
    # Run from the source tree (the package beside the job), or from the folder `sensorlake spark-job` writes (its zip).
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, _here)
    if os.path.exists(os.path.join(_here, "sensorlake_spark.zip")):
        sys.path.insert(0, os.path.join(_here, "sensorlake_spark.zip"))

from sensorlake_spark.contract import load_contract  # noqa: E402

EMBEDDED_CONTRACT = None  # `sensorlake spark-job --print` puts contract.json here, so the job is one file plus its package


def parse_window(spec, contract):
    m = re.match(r"^\s*(\d+)\s*([mhdw])\s*$", spec, re.IGNORECASE)
    n = int(m.group(1)) if m else 0
    day = contract["time"]["us_per_day"]
    if not m or n <= 0:
        raise ValueError("window '%s': expected a positive whole number and a unit m, h, d or w (e.g. 1h, 6h, 1d, 7d)" % spec)
    us = n * int(contract["time"]["window_units_us"][m.group(2).lower()])
    if (day % us != 0) if us < day else (us % day != 0):
        raise ValueError("window '%s': must divide a day evenly (e.g. 1h, 6h, 12h) or be whole days" % spec)
    return us


def parse_bound(v, name):
    """plan.ts parseTimeBound: an ISO date or date-time (UTC without an offset) -> µs."""
    if v is None:
        return None
    from sensorlake_spark.rules import parse_iso

    m = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?)?$", v.strip())
    if not m:
        raise ValueError("%s '%s': expected an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T06:00:00Z" % (name, v))
    t = m.group(2) or "00:00:00"
    us, _ = parse_iso("%sT%s%s%s" % (m.group(1), t if len(t) > 5 else t + ":00", (m.group(3) or "")[:7], m.group(4) or "Z"))
    return us


def arguments(argv):
    p = argparse.ArgumentParser(prog="backfill_job.py", description="sensorlake backfill on Apache Spark")
    p.add_argument("--plan", action="append", default=[],
                   help="a job plan written by `sensorlake backfill --engine spark` (then no other input option); repeat to run several jobs in turn "
                        "in one Spark application, one report each")
    p.add_argument("--source", action="append", default=[], help="input file, directory or glob (repeat for more)")
    p.add_argument("--lake", help="lake directory or URI")
    p.add_argument("--format", choices=["csv", "wide-csv", "jsonl", "parquet", "avro"])
    p.add_argument("--config", help="mapping config (JSON)")
    p.add_argument("--sensors", help="sensor list (CSV or JSON)")
    p.add_argument("--from", dest="from_", help="readings before this ISO date/date-time go to quarantine")
    p.add_argument("--to", help="readings at or after this ISO date/date-time go to quarantine")
    p.add_argument("--window", help="commit window: 1h, 6h, 1d, 7d (default 1d)")
    p.add_argument("--mode", choices=["merge", "replace"])
    p.add_argument("--on-conflict", choices=["keep-existing", "keep-incoming"])
    p.add_argument("--partition", choices=["date", "month"])
    p.add_argument("--job-id")
    p.add_argument("--report-file", help="also write the JSON report to this local file")
    p.add_argument("--stream", action="store_true", help="Structured Streaming over a landing folder")
    p.add_argument("--landing", help="stream: the folder new files land in (move them in whole)")
    p.add_argument("--checkpoint", help="stream: checkpoint location")
    p.add_argument("--query-name", help="stream: the txn appId of its commits (keep it with the checkpoint)")
    p.add_argument("--trigger", default="available-now", help="stream: available-now (default), or a processing-time interval such as '10 seconds'")
    p.add_argument("--max-files-per-trigger", type=int)
    return p.parse_args(argv)


def session(contract):
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("sensorlake-backfill")
    b = b.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
    b = b.config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("SENSORLAKE_SPARK_LOG_LEVEL", "WARN"))
    conf = spark.sparkContext.getConf()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    cores = spark.sparkContext.defaultParallelism
    if not conf.contains("spark.sql.shuffle.partitions"):
        spark.conf.set("spark.sql.shuffle.partitions", str(max(2, cores * 2)))
    if not conf.contains("spark.databricks.delta.snapshotPartitions"):
        spark.conf.set("spark.databricks.delta.snapshotPartitions", str(max(1, min(50, cores * 2))))
    ship_package(spark)
    return spark


def ship_package(spark):
    """Executors need the sensorlake_spark package: zipped and added here unless it already came as --py-files."""
    import sensorlake_spark as package

    pkg = os.path.dirname(os.path.abspath(package.__file__))
    shipped = spark.sparkContext.getConf().get("spark.submit.pyFiles", "")
    if ".zip" in pkg or not os.path.isdir(pkg) or "sensorlake_spark.zip" in shipped:
        return
    target = os.path.join(tempfile.mkdtemp(prefix="sensorlake-spark-"), "sensorlake_spark.zip")
    with zipfile.ZipFile(target, "w") as z:
        for name in sorted(os.listdir(pkg)):
            if name.endswith(".py"):
                z.write(os.path.join(pkg, name), "sensorlake_spark/" + name)
        z.write(os.path.join(os.path.dirname(pkg), "contract.json"), "sensorlake_spark/contract.json")
    spark.sparkContext.addPyFile(target)


def batch_jobs(spark, contract, a):
    """The jobs to run in turn: each --plan, or the one job the other options describe."""
    if not a.plan:
        return [batch_job(spark, contract, a)]
    jobs = []
    for plan in a.plan:
        with open(plan, encoding="utf-8") as fh:
            jobs.append(json.load(fh))
    return jobs


def batch_job(spark, contract, a):
    from sensorlake_spark.inputs import UsageError, default_job_id, load_sensor_list, resolve_inputs

    if not a.source or not a.lake:
        raise UsageError("give --source and --lake (or --plan)")
    config = {}
    if a.config:
        from sensorlake_spark.read import head_text

        config = json.loads(head_text(spark, a.config, 64 << 20))
    keys = ("sensors", "partition", "window", "mode", "onConflict", "from", "to", "jobId")
    source_config = {k: v for k, v in config.items() if k not in keys}
    if a.format:
        source_config["format"] = a.format
    window = a.window or config.get("window") or contract["defaults"]["window"]
    sensors_path = a.sensors or config.get("sensors")
    listed, list_text = load_sensor_list(spark, sensors_path) if sensors_path else ([], None)
    inputs = resolve_inputs(spark, a.source, source_config, contract)
    job = {
        "lake": a.lake, "inputs": inputs, "source_config": source_config, "sensors": listed, "window": window, "window_us": parse_window(window, contract),
        "from_us": parse_bound(a.from_ or config.get("from"), "from"), "to_us": parse_bound(a.to or config.get("to"), "to"),
        "mode": a.mode or config.get("mode") or contract["defaults"]["mode"],
        "on_conflict": a.on_conflict or config.get("onConflict") or contract["defaults"]["on_conflict"],
        "partition": a.partition or config.get("partition") or contract["defaults"]["partition"],
    }
    job["job_id"] = a.job_id or config.get("jobId") or default_job_id(inputs, source_config, list_text, job["mode"], job["on_conflict"], job["window_us"],
                                                                      job["from_us"], job["to_us"], job["partition"])
    if not re.match(contract["job_id"]["pattern"], job["job_id"]):
        raise UsageError("job id '%s': use up to 128 letters, digits, '.', '_', ':' or '-' (it names a directory and a txn appId)" % job["job_id"])
    return job


def stream_job(contract, a):
    from sensorlake_spark.inputs import UsageError

    if not (a.landing and a.lake and a.checkpoint and a.format):
        raise UsageError("--stream needs --landing, --lake, --checkpoint and --format")
    config = {}
    if a.config:
        with open(a.config, encoding="utf-8") as fh:
            config = json.load(fh)
    return {"landing": a.landing, "lake": a.lake, "checkpoint": a.checkpoint, "format": a.format, "trigger": a.trigger,
            "max_files_per_trigger": a.max_files_per_trigger, "source_config": dict(config, format=a.format),
            "partition": a.partition or contract["defaults"]["partition"], "sensors": [],
            "app_id": a.query_name or "stream-" + re.sub(r"[^A-Za-z0-9._:-]", "-", a.landing.rstrip("/").rsplit("/", 1)[-1])[:100]}


def main(argv):
    a = arguments(argv)
    contract = load_contract(EMBEDDED_CONTRACT)
    from sensorlake_spark.inputs import UsageError
    from sensorlake_spark.lake import LakeError
    from sensorlake_spark.records import SchemaMismatch

    try:
        spark = session(contract)
        if a.stream:
            job = stream_job(contract, a)
            if a.sensors:
                from sensorlake_spark.inputs import load_sensor_list

                job["sensors"] = load_sensor_list(spark, a.sensors)[0]
            from sensorlake_spark.stream import run_stream

            run_stream(spark, contract, job)
            return 0
        from sensorlake_spark.batch import run_batch
        from sensorlake_spark.progress import print_report

        # A later job starts only once the earlier one's report is out: a failure stops the run there.
        reports = []
        for job in batch_jobs(spark, contract, a):
            reports.append(run_batch(spark, contract, job, sys.stdout))
            print_report(sys.stdout, reports[-1])
        if a.report_file:
            with open(a.report_file, "w", encoding="utf-8") as fh:
                json.dump(reports[0] if len(reports) == 1 else reports, fh)
        quarantined = any(r["quarantined"] > 0 for r in reports)
        return contract["exit_codes"]["quarantined"] if quarantined else contract["exit_codes"]["ok"]
    except (UsageError, LakeError, ValueError, NotImplementedError) as e:
        sys.stderr.write("sensorlake spark job: %s: %s\n" % (type(e).__name__, e))
        return contract["exit_codes"]["usage"]
    except SchemaMismatch as e:
        sys.stderr.write("sensorlake spark job: SchemaMismatchError: %s\n" % e)
        return contract["exit_codes"]["failed"]
    except Exception:  # noqa: BLE001 - the exit code tells the launcher; the trace tells the user
        traceback.print_exc()
        return contract["exit_codes"]["failed"]


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code) if os.environ.get("SENSORLAKE_SPARK_HARD_EXIT") else sys.exit(code)
