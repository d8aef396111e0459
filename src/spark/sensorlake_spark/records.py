# Per-format record readers (the TypeScript sources' rules, see src/sources/csv.ts, wide-csv.ts, jsonl.ts,
# columnar.ts): one record in, readings or rejects out, as rows of the canonical shape PARSED_COLUMNS. Pure Python;
# read.py runs them over Arrow batches in the executors.

import json
import math

from .csv_line import CsvSplit, is_blank_line
from .rules import (QualityParser, TimestampParser, TsFailure, ValueFailure, ValueParser, is_blank,
                    js_num, js_string, js_trim, show, truncate_raw)

# f: input file index, loc: location (line or record), sub: cell of a wide row; reason null = a reading.
PARSED_COLUMNS = ["f", "loc", "sub", "ts", "sensor_id", "value", "value_text", "quality", "reason", "message", "raw"]
DEFAULT_FIELDS = {"ts": "ts", "sensor_id": "sensor_id", "value": "value", "quality": "quality", "value_text": "value_text"}



def checked_fields(reader, out, f, loc, text):
    """A CSV line's fields, or None when it is blank or rejected (unparsable, or not as many columns as the header)."""
    fields, err = reader.split.fields(text)
    if is_blank_line(text, fields) and err is None:
        return None
    if err is not None:
        out.reject(f, loc, 0, "malformed_record", err, text)
        return None
    if len(fields) != reader.ncols:
        out.reject(f, loc, 0, "malformed_record", "expected %d columns (as in the header), found %d" % (reader.ncols, len(fields)), text)
        return None
    return fields

class SchemaMismatch(Exception):
    """A file the job cannot read at all (its header lacks a column): fails the job before any commit."""


class Out:
    """Collects the rows of one batch."""

    def __init__(self):
        self.rows = []

    def reading(self, f, loc, sub, ts, sid, value, text, quality):
        self.rows.append((f, loc, sub, ts, sid, value, text, quality, None, None, None))

    def reject(self, f, loc, sub, reason, message, raw):
        self.rows.append((f, loc, sub, None, None, None, None, None, reason, message, None if raw is None else truncate_raw(raw)))


def quality_parser(contract, config):
    return QualityParser(contract["quality"]["words"], contract["quality"]["codes"], (config.get("quality") or {}).get("map"))


def header_fields(config, fmt):
    section = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet", "avro": "avro"}.get(fmt)
    f = dict(DEFAULT_FIELDS)
    explicit = ((config.get(section) or {}).get("fields") or {}) if section else {}
    f.update({k: v for k, v in explicit.items() if v is not None})
    return f, explicit


class NarrowCsv:
    """csv.ts: one reading per row, columns by header name; `header` is the file's header line (already known)."""

    def __init__(self, contract, config, header_line, file):
        opts = config.get("csv") or {}
        decimal = opts.get("decimal", ".")
        self.split = CsvSplit(opts.get("delimiter", ";" if decimal == "," else ","), opts.get("quote", '"'))
        if opts.get("header", True) is False:
            raise SchemaMismatch("%s: CSV without a header is not supported by the Spark engine yet" % file)
        self.ts_parser = TimestampParser(config.get("time"))
        self.values = ValueParser(decimal)
        self.quality = quality_parser(contract, config)
        names, err = self.split.fields(header_line)
        if err:
            raise SchemaMismatch("%s: the header cannot be read: %s" % (file, err))
        names = [js_trim(n) for n in names]
        fields, explicit = header_fields(config, "csv")
        self.ncols = len(names)
        idx = {}
        self.labels = {}
        for k in ["ts", "sensor_id", "value", "quality", "value_text"]:
            name = fields.get(k)
            if name is None:
                idx[k] = -1
                continue
            i = names.index(name) if name in names else next((j for j, n in enumerate(names) if n.lower() == str(name).strip().lower()), -1)
            optional = k == "value_text" or (k == "quality" and "quality" not in explicit)
            if i < 0 and not optional:
                raise SchemaMismatch("%s: no column %s for %s (the header has: %s)" % (file, js_string(name), k, ", ".join(names) or "nothing"))
            idx[k] = i
            if k != "value_text":
                self.labels[k] = " (column %s)" % js_string(names[i]) if i >= 0 else " (column %s)" % js_string("undefined")
        self.idx = idx

    def line(self, out, f, loc, text):
        fields = checked_fields(self, out, f, loc, text)
        if fields is None:
            return
        ix, lb = self.idx, self.labels
        try:
            ts = self.ts_parser.parse(fields[ix["ts"]])
        except TsFailure as e:
            return out.reject(f, loc, 0, e.reason, e.message + lb["ts"], text)
        sid = fields[ix["sensor_id"]]
        if sid == "" or (sid[0] in " \t" and is_blank(sid)):
            return out.reject(f, loc, 0, "missing_sensor_id", "missing sensor_id" + lb["sensor_id"], text)
        vt = fields[ix["value_text"]] if ix["value_text"] >= 0 else ""
        vt = vt if vt != "" else None
        v = None
        try:
            v, vt = self.values.with_text(fields[ix["value"]], vt)
        except ValueFailure as e:
            if e.reason != "bad_value" or vt is None:
                return out.reject(f, loc, 0, e.reason, (e.message if e.reason == "bad_value" else "value " + e.message) + lb["value"], text)
        q = None
        if ix["quality"] >= 0 and fields[ix["quality"]] != "":
            qs = fields[ix["quality"]]
            q = self.quality.parse(qs)
            if q is None and not is_blank(qs):
                return out.reject(f, loc, 0, "bad_quality", _quality_message(qs) + lb["quality"], text)
        out.reading(f, loc, 0, ts, sid, v, vt, q)


def _quality_message(q):
    return "quality %s is not a known quality (good, uncertain, bad, a StatusCode, or one in quality.map)" % show(q)


class WideCsv:
    """wide-csv.ts: a timestamp column and one column per tag, melted; an empty cell is no reading."""

    def __init__(self, contract, config, header_line, file):
        opts = config.get("wideCsv") or {}
        decimal = opts.get("decimal", ".")
        self.split = CsvSplit(opts.get("delimiter", ";" if decimal == "," else ","), opts.get("quote", '"'))
        self.ts_parser = TimestampParser(config.get("time"))
        self.values = ValueParser(decimal)
        names, err = self.split.fields(header_line)
        if err:
            raise SchemaMismatch("%s: the header cannot be read: %s" % (file, err))
        names = [js_trim(n) for n in names]
        self.ncols = len(names)
        wanted = opts.get("tsColumn")
        self.ts_col = (names.index(wanted) if wanted in names else -1) if wanted is not None else (names.index("ts") if "ts" in names else 0)
        if self.ts_col < 0:
            raise SchemaMismatch("%s: no timestamp column %s (the header has: %s)" % (file, js_string(wanted), ", ".join(names)))
        exclude = set(opts.get("exclude") or [])
        self.tags = [(i, names[i]) for i in range(len(names)) if i != self.ts_col and names[i] not in exclude]
        if not self.tags:
            raise SchemaMismatch("%s: the header names no tag columns besides the timestamp (%s)" % (file, ", ".join(names)))
        ts_name = js_string(names[self.ts_col])
        self.ts_labels = [" (column %s, for the cell of column %s)" % (ts_name, js_string(n)) for _, n in self.tags]

    def line(self, out, f, loc, text):
        fields = checked_fields(self, out, f, loc, text)
        if fields is None:
            return
        try:
            ts = self.ts_parser.parse(fields[self.ts_col])
            fail = None
        except TsFailure as e:
            ts, fail = None, e
        for k, (col, name) in enumerate(self.tags):
            cell = fields[col]
            if cell == "":
                continue
            if fail is not None:
                if is_blank(cell):
                    continue
                out.reject(f, loc, k, fail.reason, fail.message + self.ts_labels[k], text)
                break
            try:
                v = self.values.parse(cell)
            except ValueFailure as e:
                if name == "" and e.reason != "bad_value":
                    out.reject(f, loc, k, "missing_sensor_id", "missing sensor_id: the header names no tag for column %d" % (col + 1), text)
                elif e.reason == "non_finite":
                    out.reject(f, loc, k, e.reason, "value " + e.message + " (column %s)" % js_string(name), text)
                continue
            if name == "":
                out.reject(f, loc, k, "missing_sensor_id", "missing sensor_id: the header names no tag for column %d" % (col + 1), text)
            elif isinstance(v, float):
                out.reading(f, loc, k, ts, name, v, None, None)
            else:
                out.reading(f, loc, k, ts, name, None, v, None)


def _json_int(s):
    n = int(s)
    return n if abs(n) <= 9007199254740991 else float(s)  # a JS number: doubles beyond 2^53


def _no_constant(name):
    raise ValueError("Unexpected token %s" % name)


def _path_getter(path):
    parts = path.split(".")
    if len(parts) == 1:
        return lambda o: o.get(path, _ABSENT)

    def get(o):
        if path in o:
            return o[path]
        v = o
        for p in parts:
            if not isinstance(v, dict):
                return _ABSENT
            v = v.get(p, _ABSENT)
        return v

    return get


class _Absent:
    pass


_ABSENT = _Absent()


class Jsonl:
    """jsonl.ts: one JSON object per line, fields by dotted path."""

    def __init__(self, contract, config):
        self.ts_parser = TimestampParser(config.get("time"))
        self.values = ValueParser(".")
        self.quality = quality_parser(contract, config)
        fields, _ = header_fields(config, "jsonl")
        self.get = {k: (_path_getter(str(p)) if p is not None else None) for k, p in fields.items()}
        self.labels = {k: " (field %s)" % (js_string(str(p)) if p is not None else "undefined") for k, p in fields.items()}
        self.codes = contract["quality"]["codes"]

    def line(self, out, f, loc, raw):
        if raw == "" or (raw[0] in " \t" and is_blank(raw)):
            return
        try:
            o = json.loads(raw, parse_int=_json_int, parse_constant=_no_constant)
        except (ValueError, RecursionError) as e:
            return out.reject(f, loc, 0, "malformed_record", "not valid JSON: %s" % e, raw)
        if not isinstance(o, dict):
            return out.reject(f, loc, 0, "malformed_record", "not a JSON object but %s" % ("a list" if isinstance(o, list) else show(o)), raw)
        self.record(out, f, loc, o, raw)

    def record(self, out, f, loc, o, raw):
        lb = self.labels
        tsv = self.get["ts"](o)
        if isinstance(tsv, bool) or not isinstance(tsv, (str, int, float)):
            what = "missing ts" if tsv is None or tsv is _ABSENT else "ts %s is neither text nor a number" % show(tsv)
            return out.reject(f, loc, 0, "bad_timestamp", what + lb["ts"], raw)
        try:
            ts = self.ts_parser.parse(tsv)
        except TsFailure as e:
            return out.reject(f, loc, 0, e.reason, e.message + lb["ts"], raw)
        s = self.get["sensor_id"](o)
        if isinstance(s, str) and s != "" and not is_blank(s):
            sid = s
        elif isinstance(s, (int, float)) and not isinstance(s, bool):
            sid = js_num(s)
        elif s is None or s is _ABSENT or isinstance(s, str):
            return out.reject(f, loc, 0, "missing_sensor_id", "missing sensor_id" + lb["sensor_id"], raw)
        else:
            return out.reject(f, loc, 0, "type_mismatch", "sensor_id %s is not text or a number%s" % (show(s), lb["sensor_id"]), raw)
        xt = self.get["value_text"](o) if self.get.get("value_text") else None
        vt = xt if isinstance(xt, str) and xt != "" else None
        v = None
        x = self.get["value"](o)
        if isinstance(x, bool):
            v, vt = (1.0, "true") if x else (0.0, "false")
        elif isinstance(x, (int, float)):
            x = float(x)
            if not math.isfinite(x):
                return out.reject(f, loc, 0, "non_finite", "value %s is not a finite number%s" % (js_num(x), lb["value"]), raw)
            v = x
        elif isinstance(x, str):
            try:
                v, vt = self.values.with_text(x, vt)
            except ValueFailure as e:
                if e.reason != "bad_value" or vt is None:
                    return out.reject(f, loc, 0, e.reason, (e.message if e.reason == "bad_value" else "value " + e.message) + lb["value"], raw)
        elif x is None or x is _ABSENT:
            if vt is None:
                return out.reject(f, loc, 0, "bad_value", "missing value" + lb["value"], raw)
        else:
            return out.reject(f, loc, 0, "type_mismatch", "value %s is a %s, expected a number or text%s" % (show(x), "list" if isinstance(x, list) else "record", lb["value"]), raw)
        q = None
        qv = self.get["quality"](o) if self.get.get("quality") else None
        if isinstance(qv, bool):
            q = self.codes["good"] if qv else self.codes["bad"]
        elif isinstance(qv, (str, int, float)):
            if qv != "" and not (isinstance(qv, str) and is_blank(qv)):
                q = self.quality.parse(qv)
                if q is None:
                    return out.reject(f, loc, 0, "bad_quality", _quality_message(qv) + lb["quality"], raw)
        elif qv is not None and qv is not _ABSENT:
            return out.reject(f, loc, 0, "bad_quality", _quality_message(qv) + lb["quality"], raw)
        out.reading(f, loc, 0, ts, sid, v, vt, q)
