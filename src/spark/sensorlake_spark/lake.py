# The lake's Delta tables as contract.json lays them out (src/backfill/lake.ts is the TypeScript twin): creating them
# with the same schema, nullability and partitioning, reading a table's txn version for an appId, and the range
# predicate a window scans and replaces with.

import json

from pyspark.sql import DataFrame, types as T

_TYPES = {"timestamp": T.TimestampType(), "string": T.StringType(), "double": T.DoubleType(), "long": T.LongType(), "date": T.DateType()}


class LakeError(Exception):
    """A lake table that is not as the contract says (usage error: exit 2)."""


def join(root, *parts):
    return "/".join([root.rstrip("/")] + list(parts))


def schema_of(fields):
    return T.StructType([T.StructField(f["name"], _TYPES[f["type"]], f["nullable"]) for f in fields])


def table_spec(contract, name, partition="date"):
    t = contract["tables"][name]
    if name == "readings":
        return schema_of(t["fields"][partition]), t["partition_columns"][partition], t["description"]
    return schema_of(t["fields"]), t["partition_columns"], t["description"]


def delta_log(spark, path):
    return spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)


def snapshot(spark, path):
    """The table's latest snapshot (JVM object), or None when there is no table at `path`."""
    log = delta_log(spark, path)
    none = spark._jvm.scala.Option.apply(None)
    snap = log.update(False, none, none)
    return snap if snap.version() >= 0 else None


def exists(spark, path):
    return snapshot(spark, path) is not None


def version(spark, path):
    s = snapshot(spark, path)
    return -1 if s is None else s.version()


def txn_version(spark, path, app_id):
    """The last txn version `app_id` committed to the table (Delta SetTransaction), or None."""
    s = snapshot(spark, path)
    if s is None:
        return None
    v = s.transactions().get(app_id)
    return v.get() if v.isDefined() else None


def partition_values(spark, path, column):
    """Values of a partition column the table's files hold (from the log, no data read)."""
    s = snapshot(spark, path)
    if s is None:
        return set()
    rows = DataFrame(s.allFiles().toDF(), spark).selectExpr("partitionValues['%s'] AS v" % column).distinct().collect()
    return {r["v"] for r in rows}


def open_or_create(spark, contract, name, path, partition="date"):
    """Creates the table unless it is there; returns whether it was there. An existing table is only checked: building
    a create statement for it costs a query plan and a snapshot for nothing."""
    from delta.tables import DeltaTable

    existed = exists(spark, path)
    if not existed:
        schema, parts, description = table_spec(contract, name, partition)
        b = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema).comment(description)
        if parts:
            b = b.partitionedBy(*parts)
        b.execute()
    if name == "readings":
        check_readings(spark, path, partition, contract)
    return existed


def _read_file(spark, path):
    jvm = spark._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    stream = p.getFileSystem(spark._jsc.hadoopConfiguration()).open(p)
    try:
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
    finally:
        stream.close()


def committed_txn(spark, path, since, app_id, txn_version):
    """Whether a commit after version `since` carries txn(app_id, txn_version), read from those commit files alone.
    The table's version also moves for other writers of the lake (the live ingest), and Delta skips a write whose txn
    is there already; asking the snapshot for its transactions would cost a Spark job per commit."""
    for v in range(since + 1, version(spark, path) + 1):
        for line in _read_file(spark, join(path, "_delta_log", "%020d.json" % v)).splitlines():
            if line.startswith('{"txn"'):
                t = json.loads(line)["txn"]
                if t.get("appId") == app_id and t.get("version") == txn_version:
                    return True
    return False


def check_readings(spark, path, partition, contract):
    s = snapshot(spark, path)
    have = s.metadata().partitionColumns().mkString(",")
    if have != partition:
        raise LakeError("%s: the readings table is partitioned by '%s', not '%s'; pass --partition %s" % (path, have, partition, have or "date"))
    names = set(s.metadata().schema().fieldNames())
    for f in contract["tables"]["readings"]["fields"][partition]:
        if f["name"] not in names:
            raise LakeError("%s: the readings table has no column '%s'; it was not made by sensorlake backfill" % (path, f["name"]))


def sql_string(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def range_predicate(start_us, end_us, partition, iso, day_text, month_text, us_per_day):
    """lake.ts rangePredicate: rows of [start, end), partition bounds spelled out so partitions prune first."""
    last = end_us - 1
    if partition == "date":
        d0, d1 = start_us // us_per_day, last // us_per_day
        part = "date = DATE '%s'" % day_text(d0) if d0 == d1 else "date >= DATE '%s' AND date <= DATE '%s'" % (day_text(d0), day_text(d1))
    else:
        m0, m1 = month_text(start_us), month_text(last)
        part = "month = '%s'" % m0 if m0 == m1 else "month >= '%s' AND month <= '%s'" % (m0, m1)
    return "%s AND ts >= TIMESTAMP '%s' AND ts < TIMESTAMP '%s'" % (part, iso(start_us), iso(end_us))
