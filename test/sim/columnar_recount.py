# Recounts a simulated Parquet or Avro directory independently of sensorlake: Parquet through pyarrow, Avro through
# the small Object Container File decoder below (Python stdlib only). Prints the counts as one JSON object.
import csv, gzip, hashlib, io, json, math, os, struct, sys, zlib


def read_sensors(d):
    with open(os.path.join(d, "sensors.csv"), newline="", encoding="utf-8") as f:
        return {r["sensor_id"]: r for r in csv.DictReader(f)}


def zigzag(buf, pos):
    shift = n = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return (n >> 1) ^ -(n & 1), pos


def decode(schema, buf, pos):
    if isinstance(schema, list):  # union: branch index, then the branch
        i, pos = zigzag(buf, pos)
        return decode(schema[i], buf, pos)
    t = schema["type"] if isinstance(schema, dict) else schema
    if t == "null":
        return None, pos
    if t == "long":
        return zigzag(buf, pos)
    if t == "double":
        return struct.unpack_from("<d", buf, pos)[0], pos + 8
    if t in ("string", "bytes"):
        n, pos = zigzag(buf, pos)
        raw = bytes(buf[pos:pos + n])
        return (raw.decode("utf-8") if t == "string" else raw), pos + n
    if t == "record":
        out = {}
        for f in schema["fields"]:
            out[f["name"]], pos = decode(f["type"], buf, pos)
        return out, pos
    raise ValueError("unsupported Avro type %r" % (t,))


def read_avro(raw):
    assert raw[:4] == b"Obj\x01", "not an Avro object container file"
    pos, meta = 4, {}
    while True:  # the header's metadata map, in blocks
        count, pos = zigzag(raw, pos)
        if count == 0:
            break
        if count < 0:
            count = -count
            _, pos = zigzag(raw, pos)
        for _ in range(count):
            k, pos = decode("string", raw, pos)
            meta[k], pos = decode("bytes", raw, pos)
    sync, pos = raw[pos:pos + 16], pos + 16
    schema = json.loads(meta["avro.schema"])
    codec = meta.get("avro.codec", b"null").decode()
    records = []
    while pos < len(raw):
        count, pos = zigzag(raw, pos)
        size, pos = zigzag(raw, pos)
        block = raw[pos:pos + size]
        pos += size
        assert raw[pos:pos + 16] == sync, "sync marker mismatch"
        pos += 16
        if codec == "deflate":
            block = zlib.decompress(block, -15)
        p = 0
        for _ in range(count):
            r, p = decode(schema, block, p)
            records.append(r)
        assert p == len(block), "block size mismatch"
    return schema, records


def main(d):
    sensors = read_sensors(d)
    c = {"records": 0, "readings": 0, "distinctKeys": 0, "exactDuplicates": 0, "conflictingDuplicates": 0,
         "malformed": {}, "outOfRange": 0, "quality": {}, "textReadings": 0, "late": 0}
    rejects, info, seen, last = {}, {}, {}, {}
    for name in sorted(os.listdir(d)):
        if name in ("sensors.csv", "truth.json"):
            continue
        raw = open(os.path.join(d, name), "rb").read()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
        if ".parquet" in name:
            import pyarrow.parquet as pq
            pf = pq.ParquetFile(io.BytesIO(raw))
            info["tsArrowType"] = str(pf.schema_arrow.field("ts").type)
            info["tsLogicalType"] = str(pf.schema.column(0).logical_type)
            import pyarrow as pa
            table = pf.read()
            # µs as integers: exact, and much faster to convert than tz-aware datetimes.
            table = table.set_column(0, "ts", table.column("ts").cast(pa.int64()))
            rows = table.to_pylist()
            info["rows"] = len(rows)
        else:
            schema, rows = read_avro(raw)
            info["tsAvroType"] = schema["fields"][0]["type"][1]
            info["rows"] = len(rows)
        for k, r in enumerate(rows):
            def reject(reason):
                c["records"] += 1
                c["malformed"][reason] = c["malformed"].get(reason, 0) + 1
                rejects["%s:%d" % (name, k)] = reason
            ts = None if r["ts"] is None else r["ts"] // 1000
            s = sensors.get(r["sensor_id"])
            text = s is not None and s["value_type"] == "text"
            v = r["value_text"] if text else r["value"]
            if ts is None:
                reject("bad_timestamp"); continue
            if r["sensor_id"] is None:
                reject("missing_sensor_id"); continue
            if r["value"] is None and r["value_text"] is None:
                reject("bad_value"); continue
            if (text and r["value_text"] is None) or (not text and r["value"] is None):
                reject("type_mismatch"); continue
            if not text and not math.isfinite(v):
                reject("non_finite"); continue
            if r["quality"] not in ("good", "uncertain", "bad"):
                reject("bad_quality"); continue
            c["records"] += 1
            c["readings"] += 1
            c["quality"][r["quality"]] = c["quality"].get(r["quality"], 0) + 1
            if text:
                c["textReadings"] += 1
            elif v < float(s["valid_min"]) or v > float(s["valid_max"]):
                c["outOfRange"] += 1
            key = (r["sensor_id"], ts)
            if key not in seen:
                seen[key] = (v, r["quality"])
                c["distinctKeys"] += 1
            elif seen[key] == (v, r["quality"]):
                c["exactDuplicates"] += 1
            else:
                c["conflictingDuplicates"] += 1
            if ts < last.get(r["sensor_id"], -math.inf):
                c["late"] += 1
            else:
                last[r["sensor_id"]] = ts
    # A digest of the distinct readings, in the form the tests compute for the text formats: id|ts ms|value.
    fmt = lambda v: v if isinstance(v, str) else (str(int(v)) if float(v).is_integer() else repr(v))
    lines = sorted("%s|%d|%s" % (k[0], k[1], fmt(v[0])) for k, v in seen.items())
    info["digest"] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    print(json.dumps({"counts": c, "rejects": rejects, "info": info}))


main(sys.argv[1])
