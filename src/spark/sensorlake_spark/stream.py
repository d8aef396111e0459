# Structured Streaming mode: readStream watches a landing folder of CSV, wide CSV, JSON Lines or Avro files, and each
# micro-batch's new files go through the batch job's reading, validation and dedup, then into one readings commit (new
# keys only) and one quarantine commit, both under txn(query name, batch id): a batch replayed after a crash, before
# the checkpoint recorded it, is skipped by Delta instead of written twice.

import json
import sys

from pyspark.sql import functions as F

from . import lake, sensors as sensor_meta
from .read import norm_path, qualified, read_inputs
from .validate import validate
from .windows import day_text, dedup_input

STREAM_TAG = "SENSORLAKE_STREAM "
GLOBS = {"csv": "*.csv*", "wide-csv": "*.csv*", "jsonl": "*.jsonl*", "avro": "*.avro", "parquet": "*.parquet"}


def _array_col(values, col):
    return F.element_at(F.array(*[F.lit(v) for v in values]), F.col(col) + 1)


def _relative(root, path):
    r, p = norm_path(root).rstrip("/"), norm_path(path)
    return p[len(r) + 1:] if p.startswith(r + "/") else p.rsplit("/", 1)[-1]


def micro_batch(spark, contract, job, inputs, batch_id, out):
    """One micro-batch's files into the lake, idempotently under txn(job['app_id'], batch_id)."""
    app = job["app_id"]
    root = job["lake"]
    readings = lake.join(root, "readings")
    listed = {s["sensor_id"]: s for s in job.get("sensors") or []}
    in_lake = sensor_meta.read_table(spark, lake.join(root, "sensors"), contract["sensor_columns"])
    parsed = read_inputs(spark, contract, job["source_config"], inputs).persist()
    try:
        v = validate(spark, parsed, sensor_meta.known_frame(spark, listed, in_lake), None, None, contract["quality"]["codes"]["bad"])
        winners = dedup_input(v.valid).where(~F.col("dup")).persist()
        lake.open_or_create(spark, contract, "readings", readings, job["partition"])
        # One pass gives the batch's sensors and time span: the table is scanned for those sensors and days only.
        span = winners.groupBy("sensor_id").agg(F.min("ts").alias("lo"), F.max("ts").alias("hi")).collect()
        sensors = [r["sensor_id"] for r in span]
        incoming = winners
        if span:
            d0, d1 = min(r["lo"] for r in span) // 86_400_000_000, max(r["hi"] for r in span) // 86_400_000_000
            existing = spark.read.format("delta").load(readings)
            if job["partition"] == "date":
                existing = existing.where("date >= DATE '%s' AND date <= DATE '%s'" % (day_text(d0), day_text(d1)))
            existing = (existing.where(F.col("sensor_id").isin(sensors))
                        .select("sensor_id", F.unix_micros("ts").alias("ts"), F.lit(True).alias("_in")).dropDuplicates(["sensor_id", "ts"]))
            incoming = winners.join(existing, ["sensor_id", "ts"], "left").where(F.col("_in").isNull()).drop("_in")
        rows = incoming.select(F.timestamp_micros("ts").alias("ts"), "sensor_id", "value", "value_text", F.col("quality").cast("long").alias("quality"),
                               _array_col([i["source"] for i in inputs], "f").alias("source"))
        rows = rows.withColumn("date", F.to_date("ts"))
        if job["partition"] == "month":
            rows = rows.withColumn("month", F.date_format("ts", "yyyy-MM"))
        rows = rows.persist()
        written = rows.count()
        # Delta skips the write of a batch replayed after a crash that lost its checkpoint commit (its txn is there);
        # whether this write committed is read from the new commits, as other writers move the table's version too.
        before = lake.version(spark, readings)
        rows.sortWithinPartitions("sensor_id", "ts").write.format("delta").mode("append").option("txnAppId", app).option("txnVersion", batch_id).save(readings)
        committed = lake.committed_txn(spark, readings, before, app, batch_id)
        rows.unpersist()
        rejects = v.rejects.persist()
        quarantined = rejects.count()
        if quarantined:
            q = lake.join(root, "quarantine")
            lake.open_or_create(spark, contract, "quarantine", q)
            kinds = [contract["location_kinds"][i["format"]] for i in inputs]
            rejects.orderBy("f", "loc", "sub").select(
                "raw", "reason", "message", _array_col([i["source"] for i in inputs], "f").alias("source_file"), F.col("loc").cast("long").alias("location"),
                _array_col(kinds, "f").alias("location_kind"), F.lit(app).alias("job_id"), F.current_timestamp().alias("quarantined_at")
            ).coalesce(1).write.format("delta").mode("append").option("txnAppId", app).option("txnVersion", batch_id).save(q)
        rejects.unpersist()
        wanted = list(listed.values()) + sensor_meta.inferred(spark, sensors, v.observed, set(listed) | set(in_lake))
        sensor_meta.upsert(spark, contract, lake.join(root, "sensors"), wanted, app, batch_id)
        read = parsed.count()
        line = {"batch_id": batch_id, "files": len(inputs), "read": read, "written": written if committed else 0, "quarantined": quarantined,
                "committed": committed, "readings_version": lake.version(spark, readings)}
        out.write(STREAM_TAG + json.dumps(line) + "\n")
        out.flush()
        winners.unpersist()
    finally:
        parsed.unpersist()


def run_stream(spark, contract, job, out=None):
    out = out or sys.stdout
    fmt = job["format"]
    landing = job["landing"]
    # binaryFile lists the new files; their content column is never selected, so it is never read here.
    reader = (spark.readStream.format("binaryFile").schema("path string, modificationTime timestamp, length long, content binary")
              .option("recursiveFileLookup", "true").option("pathGlobFilter", GLOBS[fmt]))
    if job.get("max_files_per_trigger"):
        reader = reader.option("maxFilesPerTrigger", int(job["max_files_per_trigger"]))
    files = reader.load(landing).select("path", "length")
    root = qualified(spark, landing)

    def each(df, batch_id):
        found = sorted((r["path"], r["length"]) for r in df.collect())
        if not found:
            return
        inputs = [{"file": p, "source": _relative(root, p), "size": n, "format": fmt} for p, n in found]
        micro_batch(spark, contract, job, inputs, batch_id, out)

    w = files.writeStream.foreachBatch(each).option("checkpointLocation", job["checkpoint"]).queryName(job["app_id"])
    w = w.trigger(availableNow=True) if job.get("trigger", "available-now") == "available-now" else w.trigger(processingTime=job["trigger"])
    q = w.start()
    q.awaitTermination()
    return q


__all__ = ["run_stream", "micro_batch"]
