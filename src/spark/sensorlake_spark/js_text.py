# JavaScript's renderings as the quarantine table stores them (String#trim, JSON.stringify, Number#toString, the ISO
# text of an instant) and the proleptic Gregorian calendar, so that raw text and messages match the TypeScript engine.

import json
import math

# JavaScript's String#trim set (WhiteSpace and LineTerminator), which str.strip() does not match exactly.
_JS_SPACE = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
MAX_US = 9007199254740991
RAW_LIMIT = 4096


def js_trim(s):
    return s.strip(_JS_SPACE)


def utf16_len(s):
    return len(s) if s.isascii() else len(s.encode("utf-16-le")) // 2


def utf16_slice(s, n):
    """The first n UTF-16 code units of s (a surrogate pair cut in half keeps its first half, as in JS)."""
    if s.isascii():
        return s[:n]
    b = s.encode("utf-16-le", "surrogatepass")[: 2 * n]
    return b.decode("utf-16-le", "surrogatepass")


def is_blank(s):
    return js_trim(s) == ""


def js_string(s):
    """JSON.stringify of a string."""
    return json.dumps(s, ensure_ascii=False)


def js_num(x):
    """Number#toString of a double: shortest round-trip digits, exponent form outside [1e-7, 1e21)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    x = float(x)
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))
    mant, _, exp = r.partition("e")
    ip, _, fp = mant.partition(".")
    if fp == "0":
        fp = ""
    digits = (ip + fp).lstrip("0")
    # n: the decimal point's position relative to the digits (value = 0.digits * 10^n).
    n = len(ip) + (int(exp) if exp else 0) - (len(ip + fp) - len((ip + fp).lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        es = ("+" if e >= 0 else "-") + str(abs(e))
        out = digits + "e" + es if k == 1 else digits[0] + "." + digits[1:] + "e" + es
    return sign + out


def js_json(v):
    """JSON.stringify of a JS value as the sources render a record: bytes as hex, non-finite numbers as text."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v) if abs(v) <= MAX_US else js_num(float(v))
    if isinstance(v, float):
        return js_num(v) if math.isfinite(v) else js_string(js_num(v))
    if isinstance(v, str):
        return js_string(v)
    if isinstance(v, (bytes, bytearray)):
        return js_string(bytes(v).hex())
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(js_json(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(js_string(str(k)) + ":" + js_json(x) for k, x in v.items()) + "}"
    return js_string(str(v))


def show(v):
    """text-sink.ts show(): JSON of a value, strings cut at 60 UTF-16 units."""
    if isinstance(v, str):
        return js_string(utf16_slice(v, 60) + "\u2026" if utf16_len(v) > 60 else v)
    if v is None:
        return "null"
    j = js_json(v)
    return utf16_slice(j, 60) + "\u2026" if utf16_len(j) > 60 else j


def describe(v):
    """columnar.ts describe()."""
    if v is None:
        return "null"
    if isinstance(v, str):
        return js_string(utf16_slice(v, 60) + "\u2026" if utf16_len(v) > 60 else v)
    if isinstance(v, (bytes, bytearray)):
        return "bytes"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, dict):
        return "a record"
    if isinstance(v, bool):
        return "true" if v else "false"
    return js_num(v) if isinstance(v, float) else str(v)


def truncate_raw(raw):
    """batch.ts truncateRaw (after text-sink's cut at 4200), in UTF-16 units."""
    if len(raw) * 2 <= RAW_LIMIT:
        return raw
    if utf16_len(raw) <= RAW_LIMIT:
        return raw
    return utf16_slice(raw, RAW_LIMIT) + "\u2026"


def iso_micros(us):
    """plan.ts isoMicros: ISO text with ms, or µs when the instant has them."""
    ms = us // 1000
    sub = us - ms * 1000
    days, rem = divmod(ms, 86_400_000)
    y, m, d = civil_from_days(days)
    h, rem = divmod(rem, 3_600_000)
    mi, rem = divmod(rem, 60_000)
    s, msr = divmod(rem, 1000)
    ytext = "%04d" % y if 0 <= y <= 9999 else ("+" if y > 0 else "-") + "%06d" % abs(y)
    base = "%s-%02d-%02dT%02d:%02d:%02d.%03d" % (ytext, m, d, h, mi, s, msr)
    return base + ("%03dZ" % sub if sub else "Z")


def record_json(ts, sensor, value, text, quality):
    """validate.ts recordJson: a reject found after parsing, as JSON."""
    return '{"ts":%s,"sensor_id":%s,"value":%s,"value_text":%s,"quality":%s}' % (
        js_string(iso_micros(ts)),
        js_string(sensor),
        "null" if value is None else js_num(value),
        "null" if text is None else js_string(text),
        "null" if quality is None else js_num(quality),
    )


# ---- dates -----------------------------------------------------------------------------------------------------

DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def days_from_civil(y, m, d):
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(z):
    z += 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + (1 if m <= 2 else 0), m, d)
