# Parquet and Avro records (src/sources/columnar.ts RecordSink, parquet.ts and avro.ts renderings): typed field
# values in, a reading or a reject out, in the canonical shape of records.py.

import math
from decimal import Decimal

from .records import quality_parser
from .rules import TsFailure, ValueFailure, ValueParser, describe, js_json, js_num

class Columnar:
    """columnar.ts RecordSink for Parquet and Avro: typed field values in, a reading or a reject out."""

    def __init__(self, contract, config):
        self.values = ValueParser(".")
        self.quality = quality_parser(contract, config)

    def record(self, out, f, loc, ts, sensor, value, quality, text, raw):
        """`ts` is µs, None (null), or a TsFailure; `raw()` renders the record for a reject."""
        if ts is None:
            return out.reject(f, loc, 0, "bad_timestamp", "ts is null", raw())
        if isinstance(ts, TsFailure):
            return out.reject(f, loc, 0, ts.reason, ts.message, raw())
        if isinstance(sensor, str) and sensor != "":
            sid = sensor
        elif isinstance(sensor, (int, float)) and not isinstance(sensor, bool):
            sid = js_num(sensor) if isinstance(sensor, float) else str(sensor)
        elif sensor is None or sensor == "":
            return out.reject(f, loc, 0, "missing_sensor_id", "sensor_id is empty", raw())
        else:
            return out.reject(f, loc, 0, "type_mismatch", "sensor_id is %s, expected text or an integer" % describe(sensor), raw())
        v = None
        t = text if isinstance(text, str) else None
        if isinstance(value, bool):
            v = 1.0 if value else 0.0
        elif isinstance(value, (int, float, Decimal)):
            v = float(value)
        elif isinstance(value, str):
            try:
                v, t = self.values.with_text(value, t)
            except ValueFailure as e:
                return out.reject(f, loc, 0, e.reason, "value: " + e.message, raw())
        elif value is None:
            if t is None:
                return out.reject(f, loc, 0, "bad_value", "value is null", raw())
        else:
            return out.reject(f, loc, 0, "type_mismatch", "value is %s, expected a number" % describe(value), raw())
        if v is not None and not math.isfinite(v):
            return out.reject(f, loc, 0, "non_finite", "value is %s" % js_num(v), raw())
        q = None
        if quality is not None and quality != "":
            parsed = self.quality.parse(quality) if isinstance(quality, (str, int, float)) and not isinstance(quality, bool) else None
            if parsed is None:
                return out.reject(f, loc, 0, "bad_quality", "quality %s is not a known quality" % describe(quality), raw())
            q = parsed
        out.reading(f, loc, 0, ts, sid, v, t, q)


def columnar_raw(fmt, names, values, native_ts):
    """The record as parquet.ts / avro.ts render it for quarantine: `names` are (field key, column) pairs in order,
    timestamps given as µs (Parquet shows them with their unit, avsc as the long it stores)."""
    rec = {}
    for (key, col), val in zip(names, values):
        if fmt == "parquet" and key == "ts" and native_ts and isinstance(val, int):
            val = "%d (microsecond)" % val
        rec[col] = val
    return js_json(rec)
