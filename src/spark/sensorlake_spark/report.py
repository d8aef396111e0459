# The JSON summary of a Spark backfill, key for key the TypeScript engine's (src/backfill/report.ts; the keys and their
# order come from contract.json), with the same accounting identity:
# read = written + duplicates + quarantined + already_committed, in total and for every file.


def _balanced(x):
    return x["read"] == x["written"] + x["duplicates"] + x["quarantined"] + x["already_committed"]


def build_report(contract, job, inputs, read_by_file, window_stats, reject_stats, t, windows, quarantine_commits, sensors_upserted, readings_version, seconds):
    staged = {}
    outside = 0
    for r in window_stats:
        staged[r["f"]] = staged.get(r["f"], 0) + r["staged"]
        outside += r["outside"] or 0
    quarantined = {}
    by_reason = {reason: 0 for reason in contract["reject_reasons"]}
    for r in reject_stats:
        quarantined[r["f"]] = quarantined.get(r["f"], 0) + r["count"]
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + r["count"]
    files = []
    for f, i in enumerate(inputs):
        written, dups = t["per_file"].get(f, [0, 0])
        files.append({"file": i["file"], "source": i["source"], "read": read_by_file.get(f, 0), "written": written, "duplicates": dups,
                      "quarantined": quarantined.get(f, 0), "already_committed": staged.get(f, 0) - written - dups})
    total = lambda k: sum(x[k] for x in files)  # noqa: E731
    read = total("read")
    size = sum(i["size"] for i in inputs)
    s = max(seconds, 1e-3)
    values = {
        "job_id": job["job_id"], "lake": job["lake"], "mode": job["mode"], "on_conflict": job["on_conflict"], "window": job["window"],
        "partition": job["partition"], "read": read, "written": total("written"), "duplicates": total("duplicates"),
        "conflicts": t["conflicts_in_input"] + t["conflicts_with_table"], "conflicts_in_input": t["conflicts_in_input"],
        "conflicts_with_table": t["conflicts_with_table"], "rows_replaced": t["replaced"], "quarantined": total("quarantined"),
        "quarantined_by_reason": by_reason, "out_of_range": outside, "already_committed": total("already_committed"),
        "windows": len(windows), "windows_committed": t["committed"], "windows_skipped": t["skipped"], "windows_bucketed": 0,
        "dst_ambiguous": 0, "dst_nonexistent": 0, "quarantine_commits": quarantine_commits, "sensors_upserted": sensors_upserted,
        "readings_version": readings_version, "files": files, "bytes": size, "seconds": round(seconds, 3),
        "rows_per_second": int(round(read / s)), "mb_per_second": round(size / 1e6 / s, 2), "balanced": False,
    }
    report = {k: values[k] for k in contract["report"]["keys"]}
    report["balanced"] = _balanced(report) and all(_balanced(x) for x in files)
    return report
