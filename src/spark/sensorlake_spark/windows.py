# Pass 2 of the backfill (src/backfill/commit-windows.ts and window.ts): the staged readings, window after window in
# increasing order, each exactly one commit on `readings` under txn(jobId, window index); windows the job committed
# already are skipped. Dedup against the table: merge appends new keys only (keep-existing) or rewrites the window's
# rows of the incoming sensors (keep-incoming conflicts; replace mode) with replaceWhere.

import math

from pyspark.sql import Window, functions as F

from . import lake
from .rules import iso_micros


def dedup_input(valid):
    """Per key (sensor_id, ts) the record latest in input order (file, then location) wins (dedup.ts dedupInput)."""
    w = Window.partitionBy("sensor_id", "ts").orderBy(F.desc("f"), F.desc("loc"), F.desc("sub"))
    ranked = valid.select("*", F.row_number().over(w).alias("rn"), F.first("value").over(w).alias("_wv"),
                          F.first("value_text").over(w).alias("_wt"), F.first("quality").over(w).alias("_wq"))
    same = F.col("value").eqNullSafe(F.col("_wv")) & F.col("value_text").eqNullSafe(F.col("_wt")) & (F.col("quality") == F.col("_wq"))
    return ranked.select("f", "loc", "sub", "ts", "sensor_id", "value", "value_text", "quality", "_outside",
                         (F.col("rn") > 1).alias("dup"), ((F.col("rn") > 1) & ~same).alias("conflict"))


def day_text(day):
    return iso_micros(day * 86_400_000_000)[:10]


def month_text(us):
    return iso_micros(us)[:7]


class WindowCommitter:
    def __init__(self, spark, job, sources_col, existed=True):
        self.spark = spark
        self.job = job
        self.sources_col = sources_col  # f -> source name, as a Column
        self.readings = lake.join(job["lake"], "readings")
        self.partition = job["partition"]
        # Partitions the table held before this job: a window outside them has nothing in the table to meet.
        self.pre_existing = lake.partition_values(spark, self.readings, self.partition) if existed else set()

    def predicate(self, k):
        j = self.job
        return lake.range_predicate(k * j["window_us"], (k + 1) * j["window_us"], self.partition, iso_micros, day_text, month_text, 86_400_000_000)

    def _parts(self, k):
        j = self.job
        start, last = k * j["window_us"], (k + 1) * j["window_us"] - 1
        if self.partition == "date":
            return {day_text(d) for d in range(start // 86_400_000_000, last // 86_400_000_000 + 1)}
        months = set()
        t = start
        while t <= last:
            months.add(month_text(t))
            t += 86_400_000_000
        return months | {month_text(last)}

    def _output(self, rows):
        out = rows.select(F.timestamp_micros("ts").alias("ts"), "sensor_id", "value", "value_text", F.col("quality").cast("long").alias("quality"),
                          self.sources_col.alias("source"))
        out = out.withColumn("date", F.to_date("ts"))
        if self.partition == "month":
            out = out.withColumn("month", F.date_format("ts", "yyyy-MM"))
        return out

    def _write(self, df, k, rows, replace_where=None):
        n = max(1, int(math.ceil(rows / 1_000_000)))
        # Files hold disjoint sensor ranges, sorted by (sensor_id, ts) like the TypeScript engine's.
        df = df.repartitionByRange(n, "sensor_id", "ts").sortWithinPartitions("sensor_id", "ts")
        w = df.write.format("delta").option("txnAppId", self.job["job_id"]).option("txnVersion", k)
        if replace_where is not None:
            w = w.mode("overwrite").option("replaceWhere", replace_where)
        else:
            w = w.mode("append")
        before = lake.version(self.spark, self.readings)
        w.save(self.readings)
        return lake.committed_txn(self.spark, self.readings, before, self.job["job_id"], k)

    def commit(self, staged, k, rows, stats):
        """One window: returns {f: [written, table_duplicates]}, conflicts with the table, rows replaced, committed."""
        j = self.job
        win = staged.where(F.col("w") == k)
        winners = win.where(~F.col("dup")).drop("dup", "conflict", "w")
        overlap = bool(self._parts(k) & self.pre_existing)
        where = self.predicate(k)
        mode, keep = j["mode"], j["on_conflict"]
        if not overlap:
            # Nothing in the table to meet: every winner is written (its count per file is in the staging stats).
            counts = {r["f"]: [r["staged"] - r["dups"], 0] for r in stats}
            ok = self._write(self._output(winners), k, rows)
            return counts, 0, 0, ok
        present = [r[0] for r in winners.select("sensor_id").distinct().collect()]
        existing = self.spark.read.format("delta").load(self.readings).where(where)
        if present:
            existing = existing.where(F.col("sensor_id").isin(present))
        if mode == "replace":
            gone = existing.count()
            counts = _per_file(winners.groupBy("f").agg(F.count(F.lit(1)).alias("written"), F.lit(0).alias("dups")))
            rw = "%s AND sensor_id IN (%s)" % (where, ", ".join(lake.sql_string(s) for s in present)) if gone > 0 and present else None
            ok = self._write(self._output(winners), k, rows, rw)
            return counts, 0, gone, ok
        ex = existing.select("sensor_id", F.unix_micros("ts").alias("ts"), F.col("value").alias("_ev"), F.col("value_text").alias("_et"),
                             F.col("quality").alias("_eq")).dropDuplicates(["sensor_id", "ts"])
        same = F.col("value").eqNullSafe(F.col("_ev")) & F.col("value_text").eqNullSafe(F.col("_et")) & (F.col("quality") == F.col("_eq"))
        labelled = winners.join(ex, ["sensor_id", "ts"], "left").withColumn(
            "_st", F.when(F.col("_eq").isNull(), "new").when(same, "dup").otherwise("conflict")).persist()
        try:
            agg = labelled.groupBy("f", "_st").count().collect()
            written, dups, conflicts = {}, {}, 0
            for r in agg:
                f, st, n = r["f"], r["_st"], r["count"]
                if st == "new" or (st == "conflict" and keep == "keep-incoming"):
                    written[f] = written.get(f, 0) + n
                if st == "dup" or (st == "conflict" and keep == "keep-existing"):
                    dups[f] = dups.get(f, 0) + n
                if st == "conflict":
                    conflicts += n
            counts = {f: [written.get(f, 0), dups.get(f, 0)] for f in set(written) | set(dups)}
            incoming = labelled.where((F.col("_st") == "new") | ((F.col("_st") == "conflict") & F.lit(keep == "keep-incoming")))
            if keep == "keep-incoming" and conflicts > 0:
                # The table's rows of the overridden keys give way (all of them, should the table hold a key twice);
                # the window's other rows of these sensors are carried over as they are.
                lost = labelled.where(F.col("_st") == "conflict").select("sensor_id", "ts").withColumn("_x", F.lit(True))
                carried = existing.withColumn("_tsu", F.unix_micros("ts")).join(
                    lost.withColumnRenamed("ts", "_tsu"), ["sensor_id", "_tsu"], "left")
                replaced = carried.where(F.col("_x").isNotNull()).count()
                kept_rows = carried.where(F.col("_x").isNull()).drop("_tsu", "_x")
                out = self._output(incoming).unionByName(kept_rows.select(*self._output(incoming).columns))
                rw = "%s AND sensor_id IN (%s)" % (where, ", ".join(lake.sql_string(s) for s in present))
                ok = self._write(out, k, rows, rw)
                return counts, conflicts, replaced, ok
            ok = self._write(self._output(incoming), k, rows)
            return counts, conflicts, 0, ok
        finally:
            labelled.unpersist()


def _per_file(df):
    return {r["f"]: [r["written"], r["dups"]] for r in df.collect()}
