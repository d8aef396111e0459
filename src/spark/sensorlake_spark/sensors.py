# Sensor metadata (src/backfill/sensors.ts): what the list and the lake's sensors table say of each sensor, what the
# input shows of sensors neither knows (kind, lower median step of the first 63 increasing timestamps in input
# order), and the one upsert of the sensors table under txn(jobId, 0).

import json

from pyspark.sql import Window, functions as F

from . import lake

SAMPLE = 63


def read_table(spark, path, columns):
    """The sensors table's rows by id (empty when there is no table)."""
    if not lake.exists(spark, path):
        return {}
    out = {}
    for r in spark.read.format("delta").load(path).select(*columns).collect():
        d = r.asDict()
        d["kind"] = d["kind"] if d.get("kind") in ("numeric", "state") else None
        out[d["sensor_id"]] = d
    return out


def known_frame(spark, listed, in_lake):
    """Per sensor the list, or else the lake, describes: a constant map sensor_id -> (kind, vmin, vmax)."""
    entries = {}
    for sid in set(listed) | set(in_lake):
        s = listed.get(sid) or in_lake.get(sid)
        entries[sid] = {"kind": s.get("kind"), "vmin": _num(s.get("valid_min")), "vmax": _num(s.get("valid_max"))}
    return F.from_json(F.lit(json.dumps(entries)), "map<string,struct<kind:string,vmin:double,vmax:double>>")


def _num(v):
    return None if v is None else float(v)


def inferred(spark, seen_ids, observed, known_ids):
    """SensorInfo rows for sensors of the input (`seen_ids`) that neither the list nor the lake knows."""
    ids = [i for i in seen_ids if i not in known_ids]
    if not ids:
        return []
    obs = observed.where(F.col("sensor_id").isin(ids))
    kinds = {r["sensor_id"]: (r["n"], r["t"]) for r in obs.groupBy("sensor_id").agg(
        F.max(F.col("numeric").cast("int")).alias("n"), F.max(F.col("text").cast("int")).alias("t")).collect()}
    order = Window.partitionBy("sensor_id").orderBy("f", "loc", "sub")
    prior = F.max("ts").over(order.rowsBetween(Window.unboundedPreceding, -1))
    steps = obs.select("sensor_id", "f", "loc", "sub", (F.col("ts") - prior).alias("step")).where(F.col("step") > 0)
    first = steps.withColumn("k", F.row_number().over(Window.partitionBy("sensor_id").orderBy("f", "loc", "sub"))).where(F.col("k") <= SAMPLE)
    samples = {r["sensor_id"]: sorted(r["s"]) for r in first.groupBy("sensor_id").agg(F.collect_list("step").alias("s")).collect()}
    out = []
    for sid in ids:
        n, t = kinds.get(sid, (0, 0))
        s = samples.get(sid, [])
        slash = sid.rfind("/")
        out.append({
            "sensor_id": sid,
            "asset": sid[:slash] if slash > 0 else None,
            "unit": None,
            "interval_s": s[(len(s) - 1) >> 1] / 1e6 if s else None,
            "valid_min": None,
            "valid_max": None,
            "description": None,
            "kind": "state" if not n and t else "numeric",
        })
    return out


def upsert(spark, contract, path, wanted, job_id, txn_version=0):
    """Returns sensors upserted; commits nothing when the job did already (its txn reached `txn_version`), or when
    every row is there as is."""
    if not wanted:
        return 0
    columns = contract["sensor_columns"]
    existed = lake.open_or_create(spark, contract, "sensors", path)
    done = lake.txn_version(spark, path, job_id) if existed else None
    if done is not None and done >= txn_version:
        return 0
    merged = dict(read_table(spark, path, columns)) if existed else {}
    changed = 0
    for s in wanted:
        old = merged.get(s["sensor_id"])
        if old is not None and all(_same(old.get(c), s.get(c)) for c in columns):
            continue
        merged[s["sensor_id"]] = s
        changed += 1
    if changed == 0:
        return 0
    schema, _, _ = lake.table_spec(contract, "sensors")
    rows = [tuple(None if s.get(c) is None else (float(s[c]) if c in ("interval_s", "valid_min", "valid_max") else s[c]) for c in columns)
            for s in sorted(merged.values(), key=lambda s: s["sensor_id"].encode("utf-16-be"))]
    df = spark.createDataFrame(rows, schema).coalesce(1).sortWithinPartitions("sensor_id")
    before = lake.version(spark, path)
    df.write.format("delta").mode("overwrite").option("txnAppId", job_id).option("txnVersion", txn_version).save(path)
    return changed if lake.committed_txn(spark, path, before, job_id, txn_version) else 0


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b
