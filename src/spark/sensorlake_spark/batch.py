# backfill as a Spark job (src/backfill/run.ts is the TypeScript twin). Pass 1 reads, validates and dedups every input
# into staging Parquet under the lake (nothing is committed until all input was read); pass 2 commits window after
# window under txn(jobId, window), then the quarantine chunks and the sensors upsert, each txn-guarded too.

import time

from pyspark.sql import Window, functions as F

from . import lake, sensors as sensor_meta
from .progress import Progress
from .read import PARSED_SCHEMA, read_inputs
from .report import build_report
from .validate import validate
from .windows import WindowCommitter, dedup_input


def _delete(spark, path):
    jvm = spark._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    p.getFileSystem(spark._jsc.hadoopConfiguration()).delete(p, True)


def _array_col(values, index_col):
    return F.element_at(F.array(*[F.lit(v) for v in values]), F.col(index_col) + 1) if values else F.lit(None).cast("string")


def run_batch(spark, contract, job, out):
    started = time.time()
    inputs = job["inputs"]
    root = job["lake"]
    readings = lake.join(root, "readings")
    progress = Progress(out, sum(i["size"] for i in inputs))
    columns = contract["sensor_columns"]
    listed = {s["sensor_id"]: s for s in job.get("sensors") or []}
    in_lake = sensor_meta.read_table(spark, lake.join(root, "sensors"), columns)
    if lake.exists(spark, readings):
        lake.check_readings(spark, readings, job["partition"], contract)
    staging = lake.join(root, contract["staging_dir"], job["job_id"])
    # Staging is rebuilt by every run: a killed run's leftovers are never trusted.
    _delete(spark, staging)
    try:
        progress.emit(phase="read")
        read_inputs(spark, contract, job["source_config"], inputs).write.parquet(lake.join(staging, "parsed"))
        parsed = spark.read.schema(PARSED_SCHEMA).parquet(lake.join(staging, "parsed"))
        known = sensor_meta.known_frame(spark, listed, in_lake)
        v = validate(spark, parsed, known, job.get("from_us"), job.get("to_us"), contract["quality"]["codes"]["bad"])
        rows_df = dedup_input(v.valid).withColumn("w", F.floor(F.col("ts") / F.lit(job["window_us"])).cast("long"))
        rows_df.write.partitionBy("w").parquet(lake.join(staging, "rows"))
        chunk_rows = job.get("quarantine_chunk_rows") or contract["defaults"]["quarantine_chunk_rows"]
        order = Window.orderBy("f", "loc", "sub")
        rejects_df = v.rejects.withColumn("chunk", F.floor((F.row_number().over(order) - 1) / F.lit(chunk_rows)).cast("long"))
        rejects_df.write.partitionBy("chunk").parquet(lake.join(staging, "rejects"))
        # Read back with the schemas they were written with: a stage with no rows has no files to infer one from.
        staged = spark.read.schema(rows_df.schema).parquet(lake.join(staging, "rows"))
        rejects = spark.read.schema(rejects_df.schema).parquet(lake.join(staging, "rejects"))
        read_by_file = {r["f"]: r["n"] for r in parsed.groupBy("f").agg(F.count(F.lit(1)).alias("n")).collect()}
        window_stats = staged.groupBy("w", "f").agg(F.count(F.lit(1)).alias("staged"), F.sum(F.col("dup").cast("long")).alias("dups"),
                                                    F.sum(F.col("conflict").cast("long")).alias("conflicts"),
                                                    F.sum(F.col("_outside").cast("long")).alias("outside")).collect()
        reject_stats = rejects.groupBy("f", "reason").count().collect()
        rows_read = sum(read_by_file.values())
        windows = sorted({r["w"] for r in window_stats})
        progress.emit(phase="commit", bytesRead=progress.total, rowsRead=rows_read, windowsTotal=len(windows))

        # A table this run creates holds no rows and no txn yet: nothing to look up in it.
        existed = lake.open_or_create(spark, contract, "readings", readings, job["partition"])
        committer = WindowCommitter(spark, job, _array_col([i["source"] for i in inputs], "f"), existed)
        done = lake.txn_version(spark, readings, job["job_id"]) if existed else None
        per_window = {}
        for r in window_stats:
            per_window.setdefault(r["w"], []).append(r)
        t = {"committed": 0, "skipped": 0, "conflicts_in_input": 0, "conflicts_with_table": 0, "replaced": 0, "per_file": {}, "written": 0}
        for n, w in enumerate(windows):
            stats = per_window[w]
            rows = sum(r["staged"] - r["dups"] for r in stats)
            if done is not None and w <= done:
                t["skipped"] += 1
            else:
                counts, conflicts, replaced, ok = committer.commit(staged, w, rows, stats)
                if ok:
                    t["committed"] += 1
                    t["conflicts_in_input"] += sum(r["conflicts"] for r in stats)
                    t["conflicts_with_table"] += conflicts
                    t["replaced"] += replaced
                    for r in stats:
                        c = t["per_file"].setdefault(r["f"], [0, 0])
                        c[1] += r["dups"]
                    for f, (wr, d) in counts.items():
                        c = t["per_file"].setdefault(f, [0, 0])
                        c[0] += wr
                        c[1] += d
                        t["written"] += wr
                else:
                    t["skipped"] += 1  # committed by someone else meanwhile: nothing of this run's counts stands
            progress.emit(windowsDone=n + 1, rowsWritten=t["written"])

        progress.emit(phase="quarantine")
        quarantine_commits = _commit_quarantine(spark, contract, job, rejects, inputs, sum(r["count"] for r in reject_stats), chunk_rows)
        progress.emit(phase="sensors")
        parsed_ids = [r[0] for r in parsed.where(F.col("reason").isNull()).select("sensor_id").distinct().collect()]
        wanted = list(listed.values()) + sensor_meta.inferred(spark, parsed_ids, v.observed, set(listed) | set(in_lake))
        upserted = sensor_meta.upsert(spark, contract, lake.join(root, "sensors"), wanted, job["job_id"])
        report = build_report(contract, job, inputs, read_by_file, window_stats, reject_stats, t, windows, quarantine_commits, upserted,
                              lake.version(spark, readings), time.time() - started)
        progress.emit(phase="done", windowsDone=len(windows))
        return report
    finally:
        _delete(spark, staging)


def _commit_quarantine(spark, contract, job, rejects, inputs, total, chunk_rows):
    chunks = range((total + chunk_rows - 1) // chunk_rows)
    if total == 0:
        return 0
    path = lake.join(job["lake"], "quarantine")
    existed = lake.open_or_create(spark, contract, "quarantine", path)
    done = lake.txn_version(spark, path, job["job_id"]) if existed else None
    kinds = [contract["location_kinds"][i["format"]] for i in inputs]
    committed = 0
    for c in chunks:
        if done is not None and c <= done:
            continue
        rows = rejects.where(F.col("chunk") == c).orderBy("f", "loc", "sub").select(
            "raw", "reason", "message", _array_col([i["source"] for i in inputs], "f").alias("source_file"),
            F.col("loc").cast("long").alias("location"), _array_col(kinds, "f").alias("location_kind"),
            F.lit(job["job_id"]).alias("job_id"), F.current_timestamp().alias("quarantined_at"))
        before = lake.version(spark, path)
        rows.coalesce(1).write.format("delta").mode("append").option("txnAppId", job["job_id"]).option("txnVersion", c).save(path)
        committed += 1 if lake.committed_txn(spark, path, before, job["job_id"], c) else 0
    return committed
