# The peers of the backfill benchmark: delta-rs (pyarrow.csv + write_deltalake, then MERGE) and Spark (local[2],
# delta-spark: CSV -> Delta, then MERGE). Each subcommand times its own work and prints one JSON line.
#   peer.py deltars-load <csv> <table>    peer.py deltars-merge <csv> <table>
#   peer.py spark-load <csv> <table>      peer.py spark-merge <csv> <table>   (one JVM per call: its start-up counts)
#   peer.py count <table>                 rows and distinct (sensor_id, ts) keys, read by delta-rs
#   peer.py report <work-dir>             folds the JSON lines into the table and one JSON line
#   peer.py memory <report.json> <rss> <bytes>  the --memory run's line
import glob
import json
import os
import resource
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
JARS = [os.path.join(ROOT, ".cache", "jars", j) for j in ("delta-spark_2.12-3.3.2.jar", "delta-storage-3.3.2.jar")]
QUALITY = {"good": 0, "uncertain": 0x40000000, "bad": 0x80000000}


def result(engine, step, rows, seconds, **extra):
    out = {"engine": engine, "step": step, "rows": rows, "seconds": seconds,
           "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    out.update(extra)
    print(json.dumps(out))


def arrow_csv(path):
    # The same table contract as ours: ts µs UTC, quality as the OPC UA status code, a date partition.
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    t = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(column_types={
        "ts": pa.timestamp("us", tz="UTC"), "sensor_id": pa.string(), "value": pa.float64(), "quality": pa.string()}))
    codes = pa.array(list(QUALITY.keys()))
    q = pc.take(pa.array(list(QUALITY.values()), pa.int64()), pc.index_in(t["quality"], codes))
    return pa.table({
        "ts": t["ts"], "sensor_id": t["sensor_id"], "value": t["value"], "quality": q,
        "date": pc.cast(t["ts"], pa.date32()),
    })


def deltars_load(csv, table):
    from deltalake import write_deltalake

    t0 = time.perf_counter()
    data = arrow_csv(csv)
    write_deltalake(table, data, partition_by=["date"])
    result("delta-rs", "load", data.num_rows, time.perf_counter() - t0)


def deltars_merge(csv, table):
    from deltalake import DeltaTable

    t0 = time.perf_counter()
    data = arrow_csv(csv)
    m = (DeltaTable(table).merge(data, predicate="t.sensor_id = s.sensor_id AND t.ts = s.ts",
                                 source_alias="s", target_alias="t")
         .when_not_matched_insert_all().execute())
    result("delta-rs", "merge", data.num_rows, time.perf_counter() - t0, inserted=m.get("num_target_rows_inserted"))


def spark_session():
    from pyspark.sql import SparkSession

    conf = {
        "spark.jars": ",".join(JARS),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "4g",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        "spark.sql.catalogImplementation": "in-memory",
    }
    b = SparkSession.builder.master("local[2]").appName("sensorlake-bench")
    for k, v in conf.items():
        b = b.config(k, v)
    s = b.getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    return s


def spark_frame(spark, csv):
    from pyspark.sql import functions as F

    df = spark.read.option("header", True).schema("ts string, sensor_id string, value double, quality string").csv(csv)
    q = F.when(F.col("quality") == "good", F.lit(0)).when(F.col("quality") == "uncertain", F.lit(0x40000000))
    return df.select(
        F.to_timestamp("ts").alias("ts"), "sensor_id", "value",
        q.otherwise(F.lit(0x80000000)).cast("long").alias("quality"),
    ).withColumn("date", F.to_date("ts"))


def spark_load(csv, table):
    t0 = time.perf_counter()
    spark = spark_session()
    spark_frame(spark, csv).write.format("delta").partitionBy("date").save(table)
    rows = spark.read.format("delta").load(table).count()
    result("spark", "load", rows, time.perf_counter() - t0)


def spark_merge(csv, table):
    t0 = time.perf_counter()
    spark = spark_session()
    from delta.tables import DeltaTable

    src = spark_frame(spark, csv)
    (DeltaTable.forPath(spark, table).alias("t")
     .merge(src.alias("s"), "t.sensor_id = s.sensor_id AND t.ts = s.ts")
     .whenNotMatchedInsertAll().execute())
    result("spark", "merge", None, time.perf_counter() - t0)


def count(table):
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder

    qb = QueryBuilder().register("t", DeltaTable(table))
    r = pa.table(qb.execute("select (select count(*) from t) as n, (select count(*) from (select distinct sensor_id, ts from t)) as k").read_all()).to_pylist()[0]
    print(json.dumps({"rows": r["n"], "keys": r["k"]}))


def report(work):
    runs = []
    for p in sorted(glob.glob(os.path.join(work, "*.json"))):
        with open(p) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{") and '"engine"' in line:
                    runs.append(json.loads(line))
    with open(os.path.join(work, "input.json")) as f:
        inp = json.load(f)
    counts = {}
    for name in ("ours", "deltars", "spark"):
        p = os.path.join(work, f"{name}.count")
        if os.path.exists(p):
            with open(p) as f:
                counts[name] = json.load(f)

    def get(engine, step):
        for r in runs:
            if r["engine"] == engine and r["step"] == step:
                return r
        return None

    rows = []
    summary = {"bench": "backfill", "input": inp, "counts": counts, "steps": {}}
    for step, label, rows_key in (("load", "first load", "loadRows"), ("merge", "overlapping rerun (50% dup)", "mergeRows")):
        ours = get("sensorlake", step)
        n = inp[rows_key]
        line = {"ours": None}
        for engine in ("sensorlake", "delta-rs", "spark"):
            r = get(engine, step)
            if r is None:
                continue
            rps = n / r["seconds"]
            ratio = (r["seconds"] / ours["seconds"]) if ours else None
            # Spark's work runs in a JVM that pyspark starts and never waits for: its CPU time is not the process's.
            cpu = r.get("cpuSeconds") if engine != "spark" else None
            cpu_ratio = (cpu / ours["cpuSeconds"]) if ours and cpu and ours.get("cpuSeconds") else None
            rows.append((label, engine, r["seconds"], rps, r.get("maxRssBytes", 0) / 2**20, ratio, cpu, cpu_ratio))
            line[engine] = {"seconds": round(r["seconds"], 3), "rowsPerSecond": round(rps), "maxRssMiB": round(r.get("maxRssBytes", 0) / 2**20),
                            "oursSpeedup": round(ratio, 2) if ratio else None, "cpuSeconds": cpu,
                            "oursCpuRatio": round(cpu_ratio, 2) if cpu_ratio else None}
        line.pop("ours")
        summary["steps"][step] = line
    print(f"input: {inp['loadRows']:,} rows ({inp['loadBytes'] / 1e6:.0f} MB CSV) first load; {inp['mergeRows']:,} rows rerun, half already loaded")
    print(f"{'step':30} {'engine':11} {'seconds':>8} {'rows/s':>12} {'peak RSS MiB':>13} {'ours is x faster':>17} {'CPU s':>7} {'CPU ratio':>10}")
    for label, engine, s, rps, rss, ratio, cpu, cpu_ratio in rows:
        cpu_text = f"{cpu:7.1f}" if cpu is not None else f"{'-':>7}"
        cpu_ratio_text = f"{cpu_ratio:10.2f}" if cpu_ratio is not None else f"{'-':>10}"
        print(f"{label:30} {engine:11} {s:8.2f} {rps:12,.0f} {rss:13,.0f} {ratio:17.2f} {cpu_text} {cpu_ratio_text}")
    print("CPU s: user + system of the contender's process and the children it waited for; CPU ratio: theirs / ours, above 1 when ours uses less; none for Spark, whose JVM is not counted")
    for name, c in counts.items():
        print(f"final table ({name}): {c['rows']:,} rows, {c['keys']:,} distinct (sensor_id, ts)")
    print(json.dumps(summary))


def memory(out, rss, size):
    with open(out) as f:
        r = json.load(f)
    rss, size = int(rss), int(size)
    print(f"input {size / 1e9:.2f} GB, {r['read']:,} records: written {r['written']:,}, {r['seconds']:.0f} s, {r['rows_per_second']:,} rows/s")
    print(f"peak RSS {rss / 2**20:,.0f} MiB (target <= 1024 MiB): {'ok' if rss <= 2**30 else 'OVER'}")
    print(json.dumps({"bench": "backfill-memory", "inputBytes": size, "records": r["read"], "written": r["written"],
                      "seconds": r["seconds"], "maxRssBytes": rss, "withinTarget": rss <= 2**30}))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    fns = {"deltars-load": deltars_load, "deltars-merge": deltars_merge, "spark-load": spark_load,
           "spark-merge": spark_merge, "count": count, "report": report, "memory": memory}
    if cmd not in fns:
        sys.exit("usage: peer.py deltars-load|deltars-merge|spark-load|spark-merge|count|report ...")
    fns[cmd](*args)
