# The interop peer: one long-lived process that answers newline-delimited JSON requests on stdin with
# Spark (delta-spark) and delta-rs (deltalake); test/interop/peers.ts is its client.
#
# Protocol: a request is {"id": n, "cmd": "...", ...args}; the answer is one line, {"id": n, "ok": true,
# "result": ...} or {"id": n, "ok": false, "error": "<type>: <message>"}. Only answers go to stdout.
#
# Canonical encoding, shared with test/interop/canonical.ts so rows compare with deep equality:
# null -> null; string, boolean -> themselves; byte/short/integer -> number; long -> decimal string;
# float/double -> number, or "NaN"/"Infinity"/"-Infinity"; decimal -> str(Decimal) at the column's scale;
# date -> "YYYY-MM-DD"; timestamp / timestamp_ntz -> microseconds since the epoch as a decimal string;
# binary -> hex; struct -> object; array -> list; map -> [key, value] pairs sorted by the key's JSON.
# Rows of a read are objects keyed by column, sorted by their JSON text as JavaScript writes and compares it.
import datetime as dt
import decimal
import json
import os
import sys
import time
import traceback

# stdout is the protocol channel: keep a private handle to it, then point fd 1 (inherited by the JVM
# that pyspark spawns) and sys.stdout at stderr so no Spark or log4j noise can corrupt a response.
_PROTO = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr
# pyspark turns TimestampType into naive datetimes in the process's local zone; pin it to UTC.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JARS = [os.path.join(ROOT, ".cache", "jars", j) for j in ("delta-spark_2.12-3.3.2.jar", "delta-storage-3.3.2.jar")]
EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
EPOCH_NAIVE = dt.datetime(1970, 1, 1)
ONE_US = dt.timedelta(microseconds=1)
DEC_CTX = decimal.Context(prec=200)
_spark = None
_scratch = None  # Spark's warehouse and derby home, removed on exit

# ---------------------------------------------------------------------------------------------------
# JavaScript-compatible JSON text, so rows and map entries sort here exactly as sortRows() sorts them.


def _js_number(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if v == 0:
        return "0"
    sign, digits, exp = decimal.Decimal(repr(v)).as_tuple()
    s = "".join(map(str, digits)).rstrip("0")
    exp += len(digits) - len(s)
    k, n = len(s), exp + len(s)
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + s
    else:
        e = n - 1
        out = (s if k == 1 else s[0] + "." + s[1:]) + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return ("-" if sign else "") + out


def _is_index_key(k):
    return k.isdigit() and (k == "0" or not k.startswith("0")) and int(k) < 2**32 - 1


def js_json(v):
    if v is None:
        return "null"
    if isinstance(v, (bool, int, float)):
        return _js_number(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(js_json(x) for x in v) + "]"
    if isinstance(v, dict):
        # JavaScript objects list integer-like keys first, ascending, then the rest in insertion order.
        keys = sorted((k for k in v if _is_index_key(k)), key=int) + [k for k in v if not _is_index_key(k)]
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + js_json(v[k]) for k in keys) + "}"
    raise TypeError(f"cannot encode {type(v).__name__}")


def js_sort_key(v):
    # JavaScript compares strings by UTF-16 code units; big-endian UTF-16 bytes compare the same way.
    return js_json(v).encode("utf-16-be", "surrogatepass")


def sort_rows(rows):
    return sorted(rows, key=js_sort_key)


# ---------------------------------------------------------------------------------------------------
# Type strings: Delta's JSON schema form (which is Spark's) rendered as `long`, `decimal(10,2)`, `array<long>`.


def type_string(t):
    if isinstance(t, str):
        return t
    kind = t["type"]
    if kind == "struct":
        return "struct<" + ",".join(f["name"] + ":" + type_string(f["type"]) for f in t["fields"]) + ">"
    if kind == "array":
        return "array<" + type_string(t["elementType"]) + ">"
    if kind == "map":
        return "map<" + type_string(t["keyType"]) + "," + type_string(t["valueType"]) + ">"
    raise ValueError(f"unknown type {t!r}")


def parse_type(s):
    """Parses a type string (`long`, `decimal(10,2)`, `array<struct<a:long>>`) into Delta's JSON form."""
    pos = 0

    def ident():
        nonlocal pos
        while pos < len(s) and s[pos] == " ":
            pos += 1
        start = pos
        while pos < len(s) and (s[pos].isalnum() or s[pos] == "_"):
            pos += 1
        if s[pos:pos + 1] == "(":
            pos = s.index(")", pos) + 1
        return s[start:pos]

    def expect(ch):
        nonlocal pos
        while pos < len(s) and s[pos] == " ":
            pos += 1
        if s[pos:pos + 1] != ch:
            raise ValueError(f"bad type string {s!r} at {pos}: expected {ch!r}")
        pos += 1

    def typ():
        nonlocal pos
        name = ident()
        low = name.lower()
        if low == "array":
            expect("<"); el = typ(); expect(">")
            return {"type": "array", "elementType": el, "containsNull": True}
        if low == "map":
            expect("<"); k = typ(); expect(","); v = typ(); expect(">")
            return {"type": "map", "keyType": k, "valueType": v, "valueContainsNull": True}
        if low == "struct":
            expect("<")
            fields = []
            while True:
                start = pos
                while s[pos] != ":":
                    pos += 1
                fname = s[start:pos].strip()
                pos += 1
                fields.append({"name": fname, "type": typ(), "nullable": True, "metadata": {}})
                while s[pos] == " ":
                    pos += 1
                if s[pos] == ">":
                    pos += 1
                    return {"type": "struct", "fields": fields}
                expect(",")
        return low.replace(" ", "")

    out = typ()
    if s[pos:].strip():
        raise ValueError(f"bad type string {s!r}: trailing {s[pos:]!r}")
    return out


# ---------------------------------------------------------------------------------------------------
# Canonical encoding of Python values (what Spark's collect() returns), driven by the Delta type.


def canon_float(v):
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return float(v)


def canon_decimal(v, scale):
    return str(decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-scale), context=DEC_CTX))


def datetime_micros(v):
    if v.tzinfo is None:
        return (v - EPOCH_NAIVE) // ONE_US
    return (v - EPOCH_UTC) // ONE_US


def canon_py(v, t):
    if v is None:
        return None
    if isinstance(t, dict):
        kind = t["type"]
        if kind == "struct":
            return {f["name"]: canon_py(v[i], f["type"]) for i, f in enumerate(t["fields"])}
        if kind == "array":
            return [canon_py(x, t["elementType"]) for x in v]
        if kind == "map":
            pairs = [[canon_py(k, t["keyType"]), canon_py(x, t["valueType"])] for k, x in v.items()]
            return sorted(pairs, key=lambda p: js_sort_key(p[0]))
    if t in ("long",):
        return str(int(v))
    if t in ("integer", "short", "byte"):
        return int(v)
    if t in ("double", "float"):
        return canon_float(v)
    if t.startswith("decimal"):
        return canon_decimal(v, int(t[t.index(",") + 1:-1]))
    if t == "date":
        return v.isoformat()
    if t in ("timestamp", "timestamp_ntz"):
        return str(datetime_micros(v))
    if t == "binary":
        return bytes(v).hex()
    if t == "boolean":
        return bool(v)
    return v if isinstance(v, (str, int, float)) else str(v)


def decode_py(v, t, spark_rows=False):
    """The inverse of canon_py: canonical JSON values to the Python objects pyarrow and pyspark accept."""
    if v is None:
        return None
    if isinstance(t, dict):
        kind = t["type"]
        if kind == "struct":
            vals = [decode_py(v.get(f["name"]) if isinstance(v, dict) else v[i], f["type"], spark_rows)
                    for i, f in enumerate(t["fields"])]
            return tuple(vals) if spark_rows else {f["name"]: x for f, x in zip(t["fields"], vals)}
        if kind == "array":
            return [decode_py(x, t["elementType"], spark_rows) for x in v]
        if kind == "map":
            pairs = v.items() if isinstance(v, dict) else v
            out = [(decode_py(k, t["keyType"], spark_rows), decode_py(x, t["valueType"], spark_rows)) for k, x in pairs]
            return dict(out) if spark_rows else out
    if t in ("long", "integer", "short", "byte"):
        return int(v)
    if t in ("double", "float"):
        return float(v)
    if t.startswith("decimal"):
        return decimal.Decimal(str(v))
    if t == "date":
        return dt.date.fromisoformat(v)
    if t == "timestamp":
        return EPOCH_UTC + dt.timedelta(microseconds=int(v))
    if t == "timestamp_ntz":
        return EPOCH_NAIVE + dt.timedelta(microseconds=int(v))
    if t == "binary":
        return bytes.fromhex(v)
    return v


def canon_row_dicts(names, types, tuples):
    return [{n: canon_py(x, t) for n, t, x in zip(names, types, row)} for row in tuples]


# ---------------------------------------------------------------------------------------------------
# Canonical encoding of Arrow columns (what delta-rs returns), driven by the Arrow type so integer
# timestamps are read as integers and never pass through floats.


def canon_arrow(arr):
    import pyarrow as pa
    import pyarrow.types as pt

    if isinstance(arr, pa.ChunkedArray):
        return [x for chunk in arr.chunks for x in canon_arrow(chunk)]
    t = arr.type
    if pt.is_dictionary(t):
        return canon_arrow(arr.dictionary_decode())
    if pt.is_null(t):
        return [None] * len(arr)
    if pt.is_timestamp(t):
        ints = arr.cast(pa.int64()).to_pylist()
        if t.unit == "ns":
            return [None if x is None else str(x // 1000) for x in ints]
        mult = {"s": 1_000_000, "ms": 1000, "us": 1}[t.unit]
        return [None if x is None else str(x * mult) for x in ints]
    if pt.is_date(t):
        return [None if x is None else x.isoformat() for x in arr.to_pylist()]
    if pt.is_integer(t):
        big = t.bit_width == 64
        return [None if x is None else (str(x) if big else x) for x in arr.to_pylist()]
    if pt.is_floating(t):
        return [None if x is None else canon_float(float(x)) for x in arr.to_pylist()]
    if pt.is_decimal(t):
        return [None if x is None else canon_decimal(x, t.scale) for x in arr.to_pylist()]
    if pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t) or pt.is_binary_view(t):
        return [None if x is None else x.hex() for x in arr.to_pylist()]
    nulls = arr.is_null().to_pylist()
    if pt.is_struct(t):
        names = [t.field(i).name for i in range(t.num_fields)]
        cols = [canon_arrow(child) for child in arr.flatten()]
        return [None if nulls[i] else {n: c[i] for n, c in zip(names, cols)} for i in range(len(arr))]
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_map(t):
        # offsets are absolute into the unsliced child array, even when arr itself is a slice.
        offsets = arr.offsets.to_pylist()
        base = offsets[0]
        child = arr.values.slice(base, offsets[-1] - base)
        if pt.is_map(t):
            keys, items = (canon_arrow(c) for c in child.flatten())
            vals = [[k, v] for k, v in zip(keys, items)]
        else:
            vals = canon_arrow(child)
        out = []
        for i in range(len(arr)):
            if nulls[i]:
                out.append(None)
                continue
            part = vals[offsets[i] - base:offsets[i + 1] - base]
            out.append(sorted(part, key=lambda p: js_sort_key(p[0])) if pt.is_map(t) else part)
        return out
    return arr.to_pylist()  # booleans and strings (utf8, large, view) are already canonical


def arrow_type(t):
    import pyarrow as pa

    if isinstance(t, dict):
        kind = t["type"]
        if kind == "struct":
            return pa.struct([pa.field(f["name"], arrow_type(f["type"])) for f in t["fields"]])
        if kind == "array":
            return pa.list_(arrow_type(t["elementType"]))
        if kind == "map":
            return pa.map_(arrow_type(t["keyType"]), arrow_type(t["valueType"]))
    simple = {
        "string": pa.string(), "long": pa.int64(), "integer": pa.int32(), "short": pa.int16(),
        "byte": pa.int8(), "double": pa.float64(), "float": pa.float32(), "boolean": pa.bool_(),
        "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"), "timestamp_ntz": pa.timestamp("us"),
        "binary": pa.binary(),
    }
    if t in simple:
        return simple[t]
    if t.startswith("decimal("):
        p, s = t[len("decimal("):-1].split(",")
        return pa.decimal128(int(p), int(s))
    raise ValueError(f"unsupported type {t!r}")


def row_value(row, i, name):
    return row.get(name) if isinstance(row, dict) else row[i]


# ---------------------------------------------------------------------------------------------------
# Spark


def spark():
    global _spark, _scratch
    if _spark is None:
        import tempfile
        from pyspark.sql import SparkSession

        scratch = _scratch = tempfile.mkdtemp(prefix="sensorlake-spark-")
        java_opts = f"-Duser.timezone=UTC -Dderby.system.home={scratch}"
        conf = {
            "spark.jars": ",".join(JARS),
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
            "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
            "spark.sql.session.timeZone": "UTC",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": "2g",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.driver.extraJavaOptions": java_opts,
            "spark.sql.catalogImplementation": "in-memory",
            "spark.sql.warehouse.dir": os.path.join(scratch, "warehouse"),
            "spark.databricks.delta.retentionDurationCheck.enabled": "false",
            "spark.databricks.delta.snapshotPartitions": "2",
        }
        builder = SparkSession.builder.master("local[2]").appName("sensorlake-interop")
        for k, v in conf.items():
            builder = builder.config(k, v)
        _spark = builder.getOrCreate()
        _spark.sparkContext.setLogLevel("WARN")
    return _spark


def spark_rows(df, sort=True):
    fields = df.schema.fields
    types = [f.dataType.jsonValue() for f in fields]
    rows = canon_row_dicts([f.name for f in fields], types, df.collect())
    schema = [{"name": f.name, "type": type_string(t)} for f, t in zip(fields, types)]
    return {"schema": schema, "rows": sort_rows(rows) if sort else rows}


def spark_history_rows(path, limit=None):
    from delta.tables import DeltaTable

    hist = DeltaTable.forPath(spark(), path).history(limit) if limit else DeltaTable.forPath(spark(), path).history()
    rows = hist.select("version", "operation", "timestamp").collect()
    out = [{"version": r[0], "operation": r[1], "timestamp": datetime_micros(r[2]) // 1000} for r in rows]
    return sorted(out, key=lambda r: r["version"])


def cmd_spark_start(_req):
    started = time.monotonic()
    s = spark()
    return {"seconds": round(time.monotonic() - started, 3), "sparkVersion": s.version}


def cmd_spark_read(req):
    reader = spark().read.format("delta")
    if req.get("version") is not None:
        reader = reader.option("versionAsOf", int(req["version"]))
    if req.get("timestamp") is not None:
        reader = reader.option("timestampAsOf", req["timestamp"])
    df = reader.load(req["path"])
    if req.get("columns"):
        df = df.select(*req["columns"])
    return spark_rows(df)


def cmd_spark_history(req):
    return spark_history_rows(req["path"])


def cmd_spark_version(req):
    return spark_history_rows(req["path"], 1)[-1]["version"]


def cmd_spark_sql(req):
    return spark_rows(spark().sql(req["sql"]), sort=False)["rows"]


def cmd_spark_append(req):
    from pyspark.sql.types import StructType, _parse_datatype_string

    s = spark()
    struct = _parse_datatype_string(req["schema_ddl"])
    if not isinstance(struct, StructType):
        raise ValueError(f"schema_ddl must describe columns, got {req['schema_ddl']!r}")
    cols = [(f.name, f.dataType.jsonValue()) for f in struct.fields]
    data = [tuple(decode_py(row_value(row, i, n), t, spark_rows=True) for i, (n, t) in enumerate(cols))
            for row in req["rows"]]
    writer = s.createDataFrame(data, struct).write.format("delta").mode("append")
    if req.get("partition_by"):
        writer = writer.partitionBy(*req["partition_by"])
    writer.save(req["path"])
    return {"version": cmd_spark_version(req)}


# ---------------------------------------------------------------------------------------------------
# delta-rs


def cmd_deltars_read(req):
    from deltalake import DeltaTable

    table = DeltaTable(req["path"], version=req.get("version"))
    if req.get("timestamp") is not None:
        table.load_as_version(req["timestamp"])
    data = table.to_pyarrow_table(columns=req.get("columns"))
    delta_types = {f["name"]: f["type"] for f in json.loads(table.schema().to_json())["fields"]}
    names = data.column_names
    cols = [canon_arrow(data.column(i)) for i in range(data.num_columns)]
    rows = [{n: c[r] for n, c in zip(names, cols)} for r in range(data.num_rows)]
    schema = [{"name": n, "type": type_string(delta_types[n]) if n in delta_types else str(data.schema.field(n).type)}
              for n in names]
    return {"schema": schema, "rows": sort_rows(rows)}


def cmd_deltars_history(req):
    from deltalake import DeltaTable

    hist = DeltaTable(req["path"]).history()
    out = [{"version": h["version"], "operation": h.get("operation"), "timestamp": h.get("timestamp")} for h in hist]
    return sorted(out, key=lambda r: r["version"])


def cmd_deltars_version(req):
    from deltalake import DeltaTable

    return DeltaTable(req["path"]).version()


def cmd_deltars_append(req):
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    cols = [(f["name"], parse_type(f["type"])) for f in req["schema"]]
    arrays = [pa.array([decode_py(row_value(row, i, n), t) for row in req["rows"]], type=arrow_type(t))
              for i, (n, t) in enumerate(cols)]
    schema = pa.schema([pa.field(n, a.type, nullable=True) for (n, _), a in zip(cols, arrays)])
    write_deltalake(req["path"], pa.Table.from_arrays(arrays, schema=schema), mode="append",
                    partition_by=req.get("partition_by") or None)
    return {"version": DeltaTable(req["path"]).version()}


def arrow_rows(data):
    names = data.column_names
    cols = [canon_arrow(data.column(i)) for i in range(data.num_columns)]
    return [{n: c[r] for n, c in zip(names, cols)} for r in range(data.num_rows)]


def cmd_deltars_sql(req):
    """SQL over delta-rs tables (DataFusion, pruning files by the log's stats): rows in the result's order."""
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder

    qb = QueryBuilder()
    for name, p in req["tables"].items():
        qb = qb.register(name, DeltaTable(p))
    return arrow_rows(pa.RecordBatchReader.from_stream(qb.execute(req["sql"])).read_all())


_FILTER_OPS = {
    "=": lambda f, v: f == v, "!=": lambda f, v: f != v, "<": lambda f, v: f < v,
    "<=": lambda f, v: f <= v, ">": lambda f, v: f > v, ">=": lambda f, v: f >= v,
}


def cmd_deltars_filter(req):
    """delta-rs's pyarrow path, to_pyarrow_table(filters=...): the AND of [column, op, canonical value] terms,
    each value decoded by its column's Delta type (a timestamp is a decimal string of microseconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    table = DeltaTable(req["path"])
    delta_types = {f["name"]: f["type"] for f in json.loads(table.schema().to_json())["fields"]}
    expr = None
    for column, op, value in req["filters"]:
        t = delta_types[column]
        term = _FILTER_OPS[op](pc.field(column), pa.scalar(decode_py(value, t), type=arrow_type(t)))
        expr = term if expr is None else expr & term
    data = table.to_pyarrow_table(columns=req.get("columns"), filters=expr)
    schema = [{"name": n, "type": type_string(delta_types[n]) if n in delta_types else str(data.schema.field(n).type)}
              for n in data.column_names]
    return {"schema": schema, "rows": sort_rows(arrow_rows(data))}


COMMANDS = {
    "ping": lambda _req: "pong",
    "spark_start": cmd_spark_start,
    "spark_read": cmd_spark_read,
    "spark_history": cmd_spark_history,
    "spark_version": cmd_spark_version,
    "spark_sql": cmd_spark_sql,
    "spark_append": cmd_spark_append,
    "deltars_read": cmd_deltars_read,
    "deltars_history": cmd_deltars_history,
    "deltars_version": cmd_deltars_version,
    "deltars_append": cmd_deltars_append,
    "deltars_sql": cmd_deltars_sql,
    "deltars_filter": cmd_deltars_filter,
}


def describe_error(e):
    java = getattr(e, "java_exception", None)
    msg = str(java.toString()) if java is not None else str(e)
    return f"{type(e).__name__}: {msg.strip()[:4000]}"


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        req_id = None
        started = time.monotonic()
        try:
            req = json.loads(line)
            req_id = req.get("id")
            cmd = req.get("cmd")
            if cmd == "shutdown":
                break
            if cmd not in COMMANDS:
                raise ValueError(f"unknown command {cmd!r}")
            resp = {"id": req_id, "ok": True, "result": COMMANDS[cmd](req)}
        except Exception as e:  # noqa: BLE001 - every failure becomes an error response
            traceback.print_exc(file=sys.stderr)
            resp = {"id": req_id, "ok": False, "error": describe_error(e)}
        print(f"peer: {line.strip()[:200]} -> ok={resp['ok']} in {time.monotonic() - started:.2f}s",
              file=sys.stderr, flush=True)
        _PROTO.write(json.dumps(resp, separators=(",", ":"), allow_nan=False) + "\n")
        _PROTO.flush()
    if _spark is not None:
        _spark.stop()
    if _scratch is not None:
        import shutil

        shutil.rmtree(_scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
