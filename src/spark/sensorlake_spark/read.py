# Reads every input into one DataFrame of PARSED_COLUMNS: text formats as lines numbered like the TypeScript reader
# numbers them (1-based, blank lines counted), Parquet and Avro natively with their 0-based record index; records are
# then read by records.py in the executors (mapInArrow), so each rule exists once in Python.

import json
from urllib.parse import unquote

import pyarrow as pa
from pyspark.sql import functions as F, types as T

from .columnar import Columnar, columnar_raw
from .records import PARSED_COLUMNS, Jsonl, NarrowCsv, Out, SchemaMismatch, WideCsv, header_fields
from .rules import TimestampParser, TsFailure

PARSED_SCHEMA = T.StructType([
    T.StructField("f", T.IntegerType(), False),
    T.StructField("loc", T.LongType(), False),
    T.StructField("sub", T.IntegerType(), False),
    T.StructField("ts", T.LongType(), True),
    T.StructField("sensor_id", T.StringType(), True),
    T.StructField("value", T.DoubleType(), True),
    T.StructField("value_text", T.StringType(), True),
    T.StructField("quality", T.LongType(), True),
    T.StructField("reason", T.StringType(), True),
    T.StructField("message", T.StringType(), True),
    T.StructField("raw", T.StringType(), True),
])
_ARROW_TYPES = [pa.int32(), pa.int64(), pa.int32(), pa.int64(), pa.string(), pa.float64(), pa.string(), pa.int64(), pa.string(), pa.string(), pa.string()]
TEXT_FORMATS = ("csv", "wide-csv", "jsonl")
SUPPORTED = TEXT_FORMATS + ("parquet", "avro")


def _batch(rows):
    cols = list(zip(*rows)) if rows else [[] for _ in PARSED_COLUMNS]
    return pa.RecordBatch.from_arrays([pa.array(list(c), type=t) for c, t in zip(cols, _ARROW_TYPES)], names=PARSED_COLUMNS)


def norm_path(p):
    """A file's identity whichever way it is spelled: Spark's _metadata.file_path (a URI) or Hadoop's qualified path."""
    s = unquote(p)
    if s.startswith("file:"):
        s = s[5:]
        while s.startswith("//"):
            s = s[1:]
    return s


def _path(i):
    """Where Spark opens an input: `path` when the plan gives one (absolute), else `file`."""
    return i.get("path") or i["file"]


def qualified(spark, path):
    jvm = spark._jvm
    p = jvm.org.apache.hadoop.fs.Path(path)
    fs = p.getFileSystem(spark._jsc.hadoopConfiguration())
    return fs.makeQualified(p).toUri().toString()


def head_text(spark, path, limit=1 << 20):
    """The first bytes of a file (decompressed as Spark would, by extension), decoded as UTF-8."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    p = jvm.org.apache.hadoop.fs.Path(path)
    stream = p.getFileSystem(conf).open(p)
    try:
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(p)
        src = codec.createInputStream(stream) if codec is not None else stream
        bounded = jvm.org.apache.commons.io.input.BoundedInputStream(src, limit)
        data = bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(bounded))
    finally:
        stream.close()
    return data.decode("utf-8", errors="replace")


def find_header(spark, path, quote='"'):
    """(1-based line, text) of a CSV file's header: its first non-blank line."""
    text = head_text(spark, path)
    if text.startswith("\ufeff"):
        text = text[1:]
    for i, line in enumerate(text.split("\n")):
        if line.endswith("\r"):
            line = line[:-1]
        if line.strip(" \t") != "" or (quote and quote in line):
            return i + 1, line
    raise SchemaMismatch("%s: no header line in its first %d bytes" % (path, 1 << 20))


def numbered(spark, df, inputs, what):
    """Adds f and loc (0-based position within its file) to rows read in file order, from Spark's split metadata:
    rows of one split are contiguous and in order, so position = rows of the file's earlier splits + rank in split."""
    df = df.select("*", F.col("_metadata.file_path").alias("_path"), F.col("_metadata.file_block_start").alias("_blk"),
                   F.monotonically_increasing_id().alias("_mid"))
    stats = df.groupBy("_path", "_blk").agg(F.min("_mid").alias("m0"), F.count(F.lit(1)).alias("n")).collect()
    by_file = {}
    for r in stats:
        by_file.setdefault(norm_path(r["_path"]), []).append(r)
    index = {norm_path(qualified(spark, _path(i))): k for k, i in enumerate(inputs)}
    offsets = {}
    for p, blocks in by_file.items():
        if p not in index:
            raise RuntimeError("%s: Spark read a file the job did not list (%s)" % (what, p))
        base = 0
        for r in sorted(blocks, key=lambda r: r["_blk"]):
            offsets["%s\u0001%d" % (r["_path"], r["_blk"])] = [index[p], base - r["m0"]]
            base += r["n"]
    # A constant map (folded once by the optimizer) instead of a join: no broadcast job for a few hundred entries.
    table = F.from_json(F.lit(json.dumps(offsets)), "map<string,array<bigint>>")
    entry = F.element_at(table, F.concat_ws("\u0001", F.col("_path"), F.col("_blk").cast("string")))
    return (df.withColumn("_e", entry).withColumn("f", F.col("_e")[0].cast("int")).withColumn("_pos", F.col("_mid") + F.col("_e")[1])
            .drop("_path", "_blk", "_mid", "_e"))


def text_parsers(spark, contract, config, inputs, idxs):
    """Per file index: (format, header line number, header text) for the driver-side setup of the executors' readers."""
    plan = {}
    for k in idxs:
        i = inputs[k]
        fmt = i["format"]
        if fmt in ("csv", "wide-csv"):
            quote = (config.get("csv" if fmt == "csv" else "wideCsv") or {}).get("quote", '"')
            hline, htext = find_header(spark, _path(i), quote)
            # Built once here so a file whose header lacks a column fails the job before any commit.
            (NarrowCsv if fmt == "csv" else WideCsv)(contract, config, htext, i["file"])
            plan[k] = (fmt, hline, htext)
        else:
            plan[k] = (fmt, 0, None)
    return plan


def read_text(spark, contract, config, inputs, idxs):
    paths = [_path(inputs[k]) for k in idxs]
    plan = text_parsers(spark, contract, config, inputs, idxs)
    lines = spark.read.option("lineSep", "\n").text(paths)
    lines = numbered(spark, lines, inputs, "text inputs").select("f", (F.col("_pos") + 1).alias("loc"), F.col("value").alias("line"))

    def parse(batches):
        readers = {}
        for b in batches:
            out = Out()
            fs, locs, texts = b.column(0).to_pylist(), b.column(1).to_pylist(), b.column(2).to_pylist()
            for f, loc, text in zip(fs, locs, texts):
                fmt, hline, htext = plan[f]
                if loc <= hline:
                    continue
                r = readers.get(f)
                if r is None:
                    r = readers[f] = (NarrowCsv(contract, config, htext, inputs[f]["file"]) if fmt == "csv"
                                      else WideCsv(contract, config, htext, inputs[f]["file"]) if fmt == "wide-csv" else Jsonl(contract, config))
                if text.endswith("\r"):
                    text = text[:-1]
                if loc == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                r.line(out, f, loc, text)
            yield _batch(out.rows)

    return lines.mapInArrow(parse, PARSED_SCHEMA)


def read_columnar(spark, contract, config, inputs, idxs, fmt):
    paths = [_path(inputs[k]) for k in idxs]
    if fmt == "parquet":
        df = spark.read.option("mergeSchema", "true").parquet(*paths)
    else:
        df = spark.read.format("avro").load(paths)
    fields, explicit = header_fields(config, fmt)
    names = df.columns
    resolved = {}
    for key in ["ts", "sensor_id", "value", "quality", "value_text"]:
        name = fields.get(key)
        if name is None:
            continue
        if name in names:
            resolved[key] = name
        elif key in ("ts", "sensor_id", "value") or key in explicit:
            raise SchemaMismatch("%s: no %s field '%s' for %s (the file has: %s)" % (paths[0], "Parquet" if fmt == "parquet" else "Avro", name, key, ", ".join(names) or "no fields"))
    ts_type = df.schema[resolved["ts"]].dataType
    if isinstance(ts_type, T.TimestampNTZType) and not (config.get("time") or {}).get("zone"):
        raise SchemaMismatch("%s: column %s holds timestamps without a time zone (local times without an offset); set time.zone to read them" % (paths[0], resolved["ts"]))
    native_ts = isinstance(ts_type, (T.TimestampType, T.TimestampNTZType, T.DateType))
    ts_col = F.unix_micros(F.col(resolved["ts"]).cast("timestamp")) if native_ts else F.col(resolved["ts"])
    located = numbered(spark, df, inputs, "%s inputs" % fmt)
    raw_names = [(k, resolved[k]) for k in ["ts", "sensor_id", "value", "quality"] if k in resolved] if fmt == "parquet" else [(c, c) for c in names]
    cols = [F.col("f"), F.col("_pos").alias("loc"), ts_col.alias("_ts")]
    cols += [F.col(resolved[k]).alias("_" + k) if k in resolved else F.lit(None).alias("_" + k) for k in ["sensor_id", "value", "quality", "value_text"]]
    raw_cols = [(F.unix_micros(F.col(c).cast("timestamp")) if isinstance(df.schema[c].dataType, (T.TimestampType, T.TimestampNTZType)) else F.col(c)).alias("_r%d" % j)
                for j, (_, c) in enumerate(raw_names)]
    located = located.select(*cols, *raw_cols)
    time_opts = config.get("time")

    def parse(batches):
        sink = Columnar(contract, config)
        times = TimestampParser(time_opts)
        for b in batches:
            out = Out()
            data = [b.column(i).to_pylist() for i in range(b.num_columns)]
            n = b.num_rows
            for i in range(n):
                f, loc, ts = data[0][i], data[1][i], data[2][i]
                if ts is not None and not native_ts:
                    try:
                        ts = times.parse(ts)
                    except TsFailure as e:
                        ts = e
                raw_vals = [data[7 + j][i] for j in range(len(raw_names))]

                def raw(rv=raw_vals):
                    return columnar_raw(fmt, raw_names, rv, native_ts)

                sink.record(out, f, loc, ts, data[3][i], data[4][i], data[5][i], data[6][i], raw)
            yield _batch(out.rows)

    return located.mapInArrow(parse, PARSED_SCHEMA)


def read_inputs(spark, contract, config, inputs):
    """All inputs as one DataFrame of PARSED_COLUMNS (files of one format read together)."""
    parts = []
    by_format = {}
    for k, i in enumerate(inputs):
        if i["format"] not in SUPPORTED:
            raise SchemaMismatch("%s: format %s is not supported by the Spark engine (supported: %s)" % (i["file"], i["format"], ", ".join(SUPPORTED)))
        by_format.setdefault(i["format"], []).append(k)
    text = [k for fmt in TEXT_FORMATS for k in by_format.get(fmt, [])]
    if text:
        parts.append(read_text(spark, contract, config, inputs, sorted(text)))
    for fmt in ("parquet", "avro"):
        if by_format.get(fmt):
            parts.append(read_columnar(spark, contract, config, inputs, by_format[fmt], fmt))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


__all__ = ["read_inputs", "PARSED_SCHEMA", "SchemaMismatch"]
