# The job's inputs when it runs on its own (spark-submit on a cluster, without the sensorlake CLI's plan): files,
# directories and globs resolved through Hadoop's FileSystem (s3://, gs://, abfss://, hdfs://, file:), formats by
# extension, the sensor list, and the default job id (src/backfill/job-id.ts, the same hash for the same local files).

import csv
import hashlib
import io
import json
import os
import posixpath

from .rules import js_num, js_string, js_trim

TS_NAMES = {"ts", "timestamp", "time", "datetime", "date_time", "_time", "time_stamp", "event_time"}
SENSOR_NAMES = {"sensor_id", "sensor", "sensorid", "tag", "tag_name", "tagname", "tag_id", "point", "signal", "series", "name"}
VALUE_NAMES = {"value", "val", "reading", "v", "_value", "measurement_value"}
BY_EXTENSION = {".csv": "csv?", ".tsv": "csv?", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "pi-json", ".parquet": "parquet", ".avro": "avro",
                ".lp": "influx", ".line": "influx", ".influx": "influx"}


class UsageError(Exception):
    """Bad arguments or inputs that are not there (exit 2)."""


def _fs(spark, path):
    p = spark._jvm.org.apache.hadoop.fs.Path(path)
    return p, p.getFileSystem(spark._jsc.hadoopConfiguration())


def _status(st):
    return {"path": st.getPath().toString(), "size": st.getLen(), "mtime": st.getModificationTime()}


def _expand(spark, spec, sidecars):
    p, fs = _fs(spark, spec)
    if fs.exists(p):
        st = fs.getFileStatus(p)
        if st.isFile():
            return None, [dict(_status(st), path=spec)]
        root = st.getPath().toString()
        out = []
        it = fs.listFiles(p, True)
        while it.hasNext():
            f = it.next()
            rel = f.getPath().toString()[len(root):].lstrip("/")
            parts = rel.split("/")
            if any(x.startswith(".") or x.startswith("_") for x in parts) or parts[-1] in sidecars:
                continue
            out.append(_status(f))
        if not out:
            raise UsageError("input directory %s holds no data files (hidden, _-prefixed and sidecar files such as sensors.csv and truth.json are skipped)" % spec)
        return root, sorted(out, key=lambda s: s["path"])
    found = fs.globStatus(p)
    files = [_status(s) for s in (found or []) if s.isFile()]
    if not files:
        raise UsageError("input %s does not exist or matches no files" % spec)
    base = "/".join(x for x in spec.split("/") if not any(ch in x for ch in "*?[{"))
    return _fs(spark, base or ".")[0].toString(), sorted(files, key=lambda s: s["path"])


def detect_format(spark, path, head, fields=None):
    from .read import head_text

    name = posixpath.basename(path).lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = posixpath.splitext(name)[1]
    fmt = BY_EXTENSION.get(ext)
    if fmt != "csv?":
        return fmt
    text = head_text(spark, path, 16_384) if head is None else head
    text = text[1:] if text.startswith("\ufeff") else text
    header = text.replace("\r\n", "\n").split("\n", 1)[0]
    delim = max([",", ";", "\t", "|"], key=lambda d: (len(header.split(d)), -[",", ";", "\t", "|"].index(d)))
    cols = [js_trim(c) for c in header.split(delim)]
    cols = [js_trim(c[1:-1] if len(c) >= 2 and c[0] == '"' and c[-1] == '"' else c).lower() for c in cols]
    if len(cols) < 2:
        return None
    fields = fields or {}

    def has(names, key):
        conf = fields.get(key)
        return any(c in names or c == key or (isinstance(conf, str) and c == conf.lower()) for c in cols)

    return "csv" if has(TS_NAMES, "ts") and has(SENSOR_NAMES, "sensor_id") and has(VALUE_NAMES, "value") else "wide-csv"


def resolve_inputs(spark, specs, config, contract):
    sidecars = set(contract["sidecar_files"])
    seen = set()
    out = []
    for spec in specs:
        root, files = _expand(spark, spec, sidecars)
        for st in files:
            key = st["path"]
            if key in seen:
                continue
            seen.add(key)
            fmt = config.get("format") or detect_format(spark, st["path"], None, (config.get("csv") or {}).get("fields"))
            if not fmt:
                raise UsageError("cannot tell the format of %s from its name or content; give it (--format)" % st["path"])
            if root is None:
                source = spec
            else:
                source = st["path"][len(root):].lstrip("/")
            out.append({"file": st["path"], "path": st["path"], "source": source, "size": st["size"], "mtime": st["mtime"], "format": fmt})
    return out


def load_sensor_list(spark, path):
    """sensor-list.ts loadSensorList: CSV with a header, or JSON (an array or { "sensors": [...] })."""
    from .read import head_text

    body = head_text(spark, path, 256 << 20)
    is_json = path.lower().endswith(".json") or body.lstrip()[:1] in ("[", "{")
    if is_json:
        doc = json.loads(body)
        records = doc if isinstance(doc, list) else (doc or {}).get("sensors")
        if not isinstance(records, list):
            raise UsageError("sensor list %s: expected an array of sensors or { \"sensors\": [...] }" % path)
    else:
        text = body[1:] if body.startswith("\ufeff") else body
        records = [{k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(text)) if any((v or "").strip() for v in r.values())]
    out = []
    seen = set()
    for i, rec in enumerate(records):
        where = "sensor list %s %s %d" % (path, "item" if is_json else "line", i + (0 if is_json else 2))
        sid = _text(rec.get("sensor_id"))
        if not sid:
            raise UsageError("%s: sensor_id is missing" % where)
        if sid in seen:
            raise UsageError("%s: sensor '%s' is listed twice" % (where, sid))
        seen.add(sid)
        vt, kind = _text(rec.get("value_type")), _text(rec.get("kind"))
        k = ("state" if vt == "text" else "numeric" if vt == "numeric" else None) if vt is not None else (None if kind is None else "state" if kind == "state" else "numeric")
        out.append({"sensor_id": sid, "asset": _text(rec.get("asset")), "unit": _text(rec.get("unit")), "interval_s": _num(rec.get("interval_s")),
                    "valid_min": _num(rec.get("valid_min")), "valid_max": _num(rec.get("valid_max")), "description": _text(rec.get("description")), "kind": k})
    return out, body


def _text(v):
    if v is None:
        return None
    s = js_trim(v if isinstance(v, str) else js_num(v) if isinstance(v, (int, float)) else str(v))
    return s or None


def _num(v):
    if v is None or (isinstance(v, str) and js_trim(v) == ""):
        return None
    return float(v)


def canonical(v):
    """job-id.ts canonical(): JSON with object keys sorted (as JS compares them: UTF-16 code units)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return js_num(v)
    if isinstance(v, str):
        return js_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    keys = sorted(v.keys(), key=lambda k: k.encode("utf-16-be"))
    return "{" + ",".join(js_string(k) + ":" + canonical(v[k]) for k in keys) + "}"


def default_job_id(inputs, source_config, sensor_list_text, mode, on_conflict, window_us, from_us, to_us, partition):
    ident = {
        "v": 1,
        "inputs": [{"path": i["file"] if "://" in i["file"] or i["file"].startswith("file:") else os.path.abspath(i["file"]),
                    "size": i["size"], "mtime": int(round(i["mtime"])), "format": i["format"]} for i in inputs],
        "sourceConfig": source_config,
        "sensorList": None if sensor_list_text is None else hashlib.sha256(sensor_list_text.encode("utf-8")).hexdigest(),
        "mode": mode, "onConflict": on_conflict, "windowUs": window_us, "fromUs": from_us, "toUs": to_us, "partition": partition,
    }
    return "backfill-" + hashlib.sha256(canonical(ident).encode("utf-8")).hexdigest()[:20]
