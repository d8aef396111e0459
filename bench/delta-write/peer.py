# The delta-rs side of the delta-write benchmark, and the correctness guard.
#   peer.py write <ipc> <table-dir> [--codec default|zstd|snappy]   loads the IPC file, times write_deltalake, prints one JSON line
#   peer.py verify <ipc> <ours-dir> <peer-dir> reads both tables with delta-rs and compares rows per day
import json
import os
import resource
import sys
import time

import pyarrow as pa
import pyarrow.ipc as ipc
from deltalake import DeltaTable, QueryBuilder, WriterProperties, write_deltalake


def rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def data_files(d):
    total = files = 0
    for root, dirs, names in os.walk(d):
        if "_delta_log" in dirs:
            dirs.remove("_delta_log")
        for n in names:
            if n.endswith(".parquet"):
                total += os.path.getsize(os.path.join(root, n))
                files += 1
    return total, files


def load(path):
    # Read into memory (not memory-mapped) so both sides hold their input the same way.
    with pa.OSFile(path, "rb") as f:
        return ipc.open_file(f).read_all()


def write(ipc_path, out, codec):
    table = load(ipc_path)
    rss_loaded = rss_now()
    props = {
        "default": None,
        "zstd": WriterProperties(compression="ZSTD", compression_level=1),
        "snappy": WriterProperties(compression="SNAPPY"),
    }[codec]
    cpu0 = time.process_time()  # every thread of the process
    t0 = time.perf_counter()
    write_deltalake(out, table, partition_by=["date"], writer_properties=props)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    size, files = data_files(out)
    print(json.dumps({
        "engine": "delta-rs",
        "rows": table.num_rows,
        "seconds": seconds,
        "cpuSeconds": cpu,
        "outputBytes": size,
        "files": files,
        "codec": {"default": "snappy (default)", "zstd": "zstd(1)", "snappy": "snappy"}[codec],
        "rssLoadedBytes": rss_loaded,
        "maxRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


def per_day(path):
    qb = QueryBuilder().register("t", DeltaTable(path))
    sql = ("select cast(date as varchar) as d, count(*) as n, count(value) as nv, count(distinct sensor_id) as s, "
           "min(ts) as lo, max(ts) as hi, sum(cast(quality as bigint)) as q from t group by date order by date")
    return pa.table(qb.execute(sql).read_all()).to_pylist()


def verify(ipc_path, ours, peer):
    expected_rows = load(ipc_path).num_rows
    a, b = per_day(ours), per_day(peer)
    rows = sum(r["n"] for r in a)
    ok = rows == expected_rows and a == b
    detail = f"{rows} rows in {len(a)} partitions; per-day counts, null counts, distinct sensors, ts range and quality sums "
    detail += "match delta-rs's own table" if a == b else "DIFFER from delta-rs's own table"
    if rows != expected_rows:
        detail += f"; expected {expected_rows} rows"
    print(json.dumps({"ok": ok, "rows": rows, "detail": detail}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "write":
        codec = sys.argv[sys.argv.index("--codec") + 1] if "--codec" in sys.argv else "default"
        write(sys.argv[2], sys.argv[3], codec)
    elif cmd == "verify":
        verify(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: peer.py write|verify ...")
