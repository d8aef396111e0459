# Checks every parsed reading as src/backfill/validate.ts and stage.ts do: --from/--to, text values against the
# sensor's kind (a sensor of unknown kind is a state sensor unless the input holds a numeric value of it), values
# outside the sensor's valid range kept with quality bad. Splits the parsed rows into valid readings and rejects.

from pyspark.sql import functions as F, types as T

from .rules import iso_micros, record_json

_RENDERED = T.StructType([T.StructField("raw", T.StringType()), T.StructField("message", T.StringType())])


def _render(kind, ts, sensor, value, text, quality, bound):
    # The raw text of a reject found after parsing: the record as JSON (validate.ts recordJson), numbers as JS prints them.
    raw = record_json(ts, sensor, value, text, quality)
    if kind == "before":
        return (raw, "ts %s is before --from %s" % (iso_micros(ts), iso_micros(bound)))
    if kind == "after":
        return (raw, "ts %s is at or after --to %s" % (iso_micros(ts), iso_micros(bound)))
    if kind == "numeric":
        return (raw, "value_text '%s' for numeric sensor '%s'" % (text, sensor))
    return (raw, "value_text '%s' for sensor '%s', which has numeric values in this input" % (text, sensor))


render_udf = F.udf(_render, _RENDERED)


class Validated:
    def __init__(self, valid, rejects, observed, out_of_range):
        self.valid = valid  # f, loc, sub, ts, sensor_id, value, value_text, quality
        self.rejects = rejects  # f, loc, sub, reason, message, raw
        self.observed = observed  # rows that count for the sensors' inferred kind and step (validate.ts observe)
        self.out_of_range = out_of_range  # a column expression counting valid rows outside the valid range


def validate(spark, parsed, known, from_us, to_us, bad_code):
    """`known`: a map column sensor_id -> (kind, vmin, vmax) of the sensors the list or the lake describes."""
    good = parsed.where(F.col("reason").isNull()).withColumn("q", F.coalesce(F.col("quality"), F.lit(0)))
    cond_before = F.col("ts") < F.lit(from_us) if from_us is not None else F.lit(False)
    cond_after = F.col("ts") >= F.lit(to_us) if to_us is not None else F.lit(False)
    timed = good.withColumn("_oor", F.when(cond_before, "before").when(cond_after, "after"))
    out_of_time = timed.where(F.col("_oor").isNotNull()).select(
        "f", "loc", "sub", F.lit("out_of_range_time").alias("reason"),
        F.col("_oor").alias("_kind"), "ts", "sensor_id", "value", "value_text", "q",
        F.when(F.col("_oor") == "before", F.lit(from_us)).otherwise(F.lit(to_us)).cast("long").alias("_bound"))
    info = F.element_at(known, F.col("sensor_id"))
    g = (timed.where(F.col("_oor").isNull()).drop("_oor")
         .withColumn("kind", info["kind"]).withColumn("vmin", info["vmin"]).withColumn("vmax", info["vmax"]))
    is_value = F.col("value").isNotNull()
    is_text = F.col("value").isNull() & F.col("value_text").isNotNull()
    numeric_seen = g.where(is_value).select("sensor_id").distinct().withColumn("_num", F.lit(True))
    g = g.join(numeric_seen, "sensor_id", "left")
    # Text of a sensor of unknown kind is settled once the whole input was seen (stage.ts pendingText).
    reject_kind = (F.when(is_text & (F.col("kind") == "numeric"), "numeric")
                   .when(is_text & F.col("kind").isNull() & F.col("_num").isNotNull(), "pending"))
    g = g.withColumn("_rk", reject_kind)
    observed = g.where(~(F.col("_rk") == "numeric") | F.col("_rk").isNull()).select(
        "sensor_id", "f", "loc", "sub", "ts", is_value.alias("numeric"), is_text.alias("text"))
    kept = g.where(F.col("_rk").isNull())
    outside = is_value & ((F.col("value") < F.coalesce(F.col("vmin"), F.lit(float("-inf")))) | (F.col("value") > F.coalesce(F.col("vmax"), F.lit(float("inf")))))
    kept = kept.withColumn("_outside", outside)
    # Kept, but flagged: a reading outside the sensor's physical range is not trustworthy.
    valid = kept.select("f", "loc", "sub", "ts", "sensor_id", "value", "value_text",
                        F.when(F.col("_outside") & (F.col("q") < F.lit(bad_code)), F.lit(bad_code)).otherwise(F.col("q")).cast("long").alias("quality"),
                        F.col("_outside"))
    kind_rejects = g.where(F.col("_rk").isNotNull()).select(
        "f", "loc", "sub", F.lit("type_mismatch").alias("reason"), F.col("_rk").alias("_kind"), "ts", "sensor_id", "value", "value_text", "q",
        F.lit(None).cast("long").alias("_bound"))
    late = out_of_time.unionByName(kind_rejects)
    rendered = late.withColumn("_r", render_udf("_kind", "ts", "sensor_id", "value", "value_text", "q", "_bound")).select(
        "f", "loc", "sub", "reason", F.col("_r.message").alias("message"), F.col("_r.raw").alias("raw"))
    source_rejects = parsed.where(F.col("reason").isNotNull()).select("f", "loc", "sub", "reason", "message", "raw")
    return Validated(valid, source_rejects.unionByName(rendered), observed, F.col("_outside"))
