# The record rules of the TypeScript sources shared by every reader: values (src/sources/values.ts) and quality flags
# (quality.ts) here, timestamps in timestamps.py, JavaScript renderings in js_text.py (re-exported, so readers import
# one module). Pure Python: runs in the executors' workers; test/spark/rules.test.ts compares it with TypeScript.

import math
import re

from .js_text import (MAX_US, RAW_LIMIT, civil_from_days, days_from_civil, describe, is_blank, iso_micros, js_json,  # noqa: F401
                      js_num, js_string, js_trim, record_json, show, truncate_raw, utf16_len, utf16_slice)
from .timestamps import EPOCH_RE, TimestampParser, TsFailure, parse_iso  # noqa: F401

__all__ = ["MAX_US", "RAW_LIMIT", "civil_from_days", "days_from_civil", "describe", "is_blank", "iso_micros", "js_json", "js_num", "js_string",
           "js_trim", "record_json", "show", "truncate_raw", "utf16_len", "utf16_slice", "EPOCH_RE", "TimestampParser", "TsFailure", "parse_iso",
           "ValueFailure", "ValueParser", "QualityParser", "NON_FINITE", "DECIMAL"]

# ---- values (values.ts) -------------------------------------------------------------------------------------------

NON_FINITE = re.compile(r"^[+-]?(nan|inf|infinity)$", re.IGNORECASE)
DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PREFIXED = re.compile(r"^0([XBO])([0-9A-Fa-f]+)$")


class ValueFailure(Exception):
    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


class ValueParser:
    """makeValueParser: a float, a str (a text reading, trimmed), or raises ValueFailure."""

    def __init__(self, decimal="."):
        self.comma = decimal == ","

    def with_text(self, s, text):
        """(value, value_text) of a value cell: its number, or None and the cell's text unless text is already set."""
        r = self.parse(s)
        if isinstance(r, float):
            return r, text
        return None, (r if text is None else text)

    def parse(self, s):
        if s and (s[0].isdigit() and s[0] < "\x80" or s[0] == "-"):
            # JS Number() reads 0X1F, 0B1, 0O7 (upper case prefixes slip past the TypeScript check for x, b, o).
            cand = s if not self.comma else (None if "." in s else s.replace(",", ".", 1))
            if cand is not None and len(cand) > 1 and cand[1] in "XBO":
                m = _PREFIXED.match(js_trim(cand))
                if m:
                    try:
                        return float(int(m.group(2), {"X": 16, "B": 2, "O": 8}[m.group(1)]))
                    except ValueError:
                        pass
        t = js_trim(s)
        if t == "":
            raise ValueFailure("bad_value", "missing value")
        if self.comma and "," in t:
            if "." in t:
                return t
            t = t.replace(",", ".", 1)
        elif self.comma and "." in t and DECIMAL.match(t):
            return t
        if DECIMAL.match(t):
            n = float(t)
            if math.isfinite(n):
                return n
            raise ValueFailure("non_finite", "%s overflows a double" % show(s))
        if NON_FINITE.match(t):
            raise ValueFailure("non_finite", "%s is not a finite number" % show(s))
        return js_trim(s)


# ---- quality (quality.ts) -----------------------------------------------------------------------------------------

_HEX = re.compile(r"^0x[0-9a-f]{1,8}$")
_DEC = re.compile(r"^\d{1,10}$")


class QualityParser:
    """makeQualityParser: the unsigned StatusCode, or None when the flag is not understood."""

    def __init__(self, words, codes, user_map=None):
        self.names = dict(words)
        for k, cls in (user_map or {}).items():
            self.names[js_trim(k).lower()] = codes[cls]
        self.seen = {}

    def _from_number(self, n):
        mapped = self.names.get(js_num(n))
        if mapped is not None:
            return mapped
        if isinstance(n, float) and not n.is_integer():
            return None
        n = int(n)
        if n < -0x80000000 or n > 0xFFFFFFFF:
            return None
        return n & 0xFFFFFFFF

    def _from_text(self, s):
        t = js_trim(s).lower()
        named = self.names.get(t)
        if named is not None:
            return named
        if _HEX.match(t):
            return int(t[2:], 16)
        if _DEC.match(t):
            return self._from_number(int(t))
        return None

    def parse(self, v):
        if not isinstance(v, str):
            return self._from_number(v)
        q = self.seen.get(v, -1)
        if q == -1:
            q = self._from_text(v)
            if len(self.seen) < 4096:
                self.seen[v] = q
        return q
