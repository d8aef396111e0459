# One CSV line -> its fields, as src/sources/csv-record.ts splits a record: a plain split when the line holds no quote
# character; otherwise quoted fields (delimiters and doubled quotes inside quotes) are unescaped. Lines are the unit
# here: a quoted field that spans lines is reported as never closed (the TypeScript reader joins the lines).


class CsvSplit:
    """fields(line) -> (list of fields, error or None)."""

    def __init__(self, delimiter=",", quote='"'):
        self.d = delimiter
        self.q = quote

    def fields(self, line):
        q = self.q
        if not q or q not in line:
            return line.split(self.d), None
        return self._quoted(line)

    def _quoted(self, text):
        d, q = self.d, self.q
        n = len(text)
        vals = []
        p = 0
        while True:
            if p < n and text[p] == q:
                s = p + 1
                out = []
                while True:
                    c = text.find(q, s)
                    if c < 0:
                        return [], "a quoted field is never closed"
                    if c + 1 < n and text[c + 1] == q:
                        out.append(text[s : c + 1])
                        s = c + 2
                        continue
                    out.append(text[s:c])
                    p = c + 1
                    break
                vals.append("".join(out))
                if p < n and text[p] == d:
                    p += 1
                    continue
                if p >= n:
                    break
                return [], "unexpected text after the closing quote of field %d" % len(vals)
            c = text.find(d, p)
            if c >= 0:
                vals.append(text[p:c])
                p = c + 1
                continue
            vals.append(text[p:])
            break
        return vals, None


def is_blank_line(line, fields):
    """csv-record.ts skips empty lines and lines of spaces and tabs only (one field)."""
    return line == "" or (len(fields) == 1 and line.strip(" \t") == "")
