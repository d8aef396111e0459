# Timestamp text or epoch numbers -> integer µs since epoch UTC, ported from src/sources/timestamps.ts with the same
# grammar, failure reasons and messages (test/spark/rules.test.ts runs both on the same inputs).

import math
import re

from .js_text import DAYS_IN_MONTH, MAX_US, days_from_civil, js_num, js_string, js_trim, show

EPOCH_RE = re.compile(r"^([+-])?(?:(\d+)(?:\.(\d*))?|\.(?=\d)(\d+))(?:[eE]([+-]?\d+))?$")
UNIT_EXP = {"s": 6, "ms": 3, "us": 0, "ns": -3}


class TsFailure(Exception):
    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


def _digit(s, i):
    if i < len(s):
        c = ord(s[i]) - 48
        if 0 <= c <= 9:
            return c
    return -1000


def parse_iso(s):
    """(µs, naive) of an ISO 8601 text, or raises ValueError(why) with timestamps.ts's wording."""
    n = len(s)
    y = _digit(s, 0) * 1000 + _digit(s, 1) * 100 + _digit(s, 2) * 10 + _digit(s, 3)
    if n < 10 or y < 0 or s[4] != "-" or s[7] != "-":
        raise ValueError("is not an ISO 8601 timestamp or an epoch number")
    mo = _digit(s, 5) * 10 + _digit(s, 6)
    d = _digit(s, 8) * 10 + _digit(s, 9)
    if mo < 0 or d < 0:
        raise ValueError("is not an ISO 8601 timestamp or an epoch number")
    if mo < 1 or mo > 12:
        raise ValueError("has month %d" % mo)
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if d < 1 or (d > DAYS_IN_MONTH[mo] and not (d == 29 and mo == 2 and leap)):
        raise ValueError("has day %d, which month %d of %d lacks" % (d, mo, y))
    secs = days_from_civil(y, mo, d) * 86_400
    micros = 0
    i = 10
    if i == n:
        return secs * 1_000_000, True
    c = s[i]
    if c in "Tt ":
        h = _digit(s, i + 1) * 10 + _digit(s, i + 2)
        mi = _digit(s, i + 4) * 10 + _digit(s, i + 5)
        if i + 6 > n or h < 0 or mi < 0 or s[i + 3] != ":":
            raise ValueError("has no valid time of day (hh:mm[:ss])")
        if h > 23 or mi > 59:
            raise ValueError("has time %s out of range" % s[i + 1 : i + 6])
        secs += h * 3600 + mi * 60
        i += 6
        if i < n and s[i] == ":":
            sec = _digit(s, i + 1) * 10 + _digit(s, i + 2)
            if i + 3 > n or sec < 0:
                raise ValueError("has no valid seconds")
            if sec > 59:
                raise ValueError("has second %d (leap seconds are not supported)" % sec)
            secs += sec
            i += 3
            if i < n and s[i] in ".,":
                i += 1
                start = i
                scale = 100_000
                while i < n and "0" <= s[i] <= "9":
                    micros += (ord(s[i]) - 48) * scale
                    scale //= 10
                    i += 1
                if i == start:
                    raise ValueError("has a decimal point without fraction digits")
    if i == n:
        return secs * 1_000_000 + micros, True
    c = s[i]
    if c == " " and i + 1 < n:
        i += 1
        c = s[i]
    if c in "Zz" and i + 1 == n:
        return secs * 1_000_000 + micros, False
    if c in "+-":
        oh = _digit(s, i + 1) * 10 + _digit(s, i + 2)
        om = 0
        j = i + 3
        if j < n:
            if s[j] == ":":
                j += 1
            om = _digit(s, j) * 10 + _digit(s, j + 1)
            j += 2
        if oh < 0 or om < 0 or j != n:
            raise ValueError("has an offset %s that is not \u00b1hh[:mm]" % js_string(s[i:n]))
        if oh > 23 or om > 59:
            raise ValueError("has an offset %s out of range" % s[i:n])
        off = (oh * 3600 + om * 60) * (-1 if c == "-" else 1)
        return (secs - off) * 1_000_000 + micros, False
    raise ValueError("has unexpected text %s after the %s" % (js_string(s[i : min(n, i + 20)]), "time" if i > 10 else "date"))


def _decimal_to_micros(neg, ip, fp, exp):
    digits = ip + fp
    point = len(ip) + exp
    if point <= 0:
        whole, rest = "", digits
    elif point >= len(digits):
        whole, rest = digits + "0" * min(point - len(digits), 30), ""
    else:
        whole, rest = digits[:point], digits[point:]
    us = int(whole) if whole else 0
    if not neg:
        return us
    cut = any(ch in "123456789" for ch in rest)
    return -us - 1 if cut else -us


class TimestampParser:
    """makeTimestampParser for options without a zone (naive local times are rejected, as without time.zone)."""

    def __init__(self, opts=None):
        opts = opts or {}
        if opts.get("zone"):
            zone = opts["zone"]
            if zone not in ("UTC", "Etc/UTC", "Etc/GMT", "GMT"):
                raise NotImplementedError("time.zone '%s': naive local times are not supported by the Spark engine yet; use the TypeScript engine" % zone)
        self.naive_utc = bool(opts.get("zone"))
        self.format = opts.get("format", "auto")
        self.unit = opts.get("epochUnit")
        self._last_text = None
        self._last = None

    def _bad(self, v, what):
        return TsFailure("bad_timestamp", "ts %s %s" % (js_num(v) if isinstance(v, (int, float)) else show(v), what))

    def _in_range(self, orig, us):
        if -MAX_US <= us <= MAX_US:
            return us
        raise self._bad(orig, "is outside the range \u00b5s timestamps hold exactly (1684-07-28 to 2255-06-05)")

    def _infer(self, a):
        return "s" if a < 1e11 else "ms" if a < 1e14 else "us" if a < 1e17 else "ns"

    def _from_iso(self, s):
        try:
            us, naive = parse_iso(s)
        except ValueError as e:
            t = js_trim(s)
            if t == s or t == "":
                raise self._bad(s, str(e))
            try:
                us, naive = parse_iso(t)
            except ValueError as e2:
                raise self._bad(s, str(e2))
        if naive:
            if not self.naive_utc:
                raise self._bad(s, "has no UTC offset; set time.zone to the IANA zone of these local times")
        return self._in_range(s, us)

    def _from_epoch(self, v):
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            fv = float(v)
            if not math.isfinite(fv):
                raise self._bad(v, "is not a finite number")
            u = self.unit or self._infer(abs(fv))
            if fv.is_integer() and u != "ns":
                return self._in_range(v, int(fv) * 10 ** UNIT_EXP[u])
            if u in ("s", "ms"):
                scale = 1e6 if u == "s" else 1e3
                r = math.floor(fv * scale + 0.5)
                if r / scale == fv:
                    return self._in_range(v, int(r))
            text = js_num(fv)
        else:
            text = js_trim(v)
        m = EPOCH_RE.match(text)
        if not m:
            raise self._bad(v, "is not an epoch number (time.format is epoch)" if self.format == "epoch" else "is not an ISO 8601 timestamp or an epoch number")
        u = self.unit or self._infer(abs(float(text)))
        exp = UNIT_EXP[u] + (int(m.group(5)) if m.group(5) else 0)
        us = _decimal_to_micros(m.group(1) == "-", m.group(2) or "", m.group(3) or m.group(4) or "", exp)
        return self._in_range(v, us)

    def parse(self, v):
        """µs UTC of a text or number, or raises TsFailure."""
        if isinstance(v, str):
            if v == self._last_text:
                return self._last
            r = self._parse_text(v)
            self._last_text, self._last = v, r
            return r
        if self.format == "iso":
            raise self._bad(v, "is a number but time.format is iso")
        return self._from_epoch(v)

    def _parse_text(self, v):
        if self.format == "epoch":
            return self._from_epoch(v)
        if (len(v) > 4 and v[4] == "-") or not EPOCH_RE.match(js_trim(v)):
            return self._from_iso(v)
        if self.format == "iso":
            raise self._bad(v, "is an epoch number but time.format is iso")
        return self._from_epoch(v)
