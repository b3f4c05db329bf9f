#!/usr/bin/env python3
"""Runs the rtctx benchmark: every built bench-<system>, every workload,
several rounds interleaved; prints a table of medians with min-max and the
ratios rtctx / best peer; writes results.md and chart.png (gnuplot).

    python3 run.py --bin-dir ../build/bench [--rounds 3] [--out-dir .]

Each cell is one process (`bench-<system> <workload> ...`) that prints one
JSON line. Rounds are interleaved: round 1 runs every cell once, round 2
again, ...; the order of systems rotates from round to round.

Swift API rows (opt-in: --swift-systems swift-rtctx,swift-global,swift-nio):
one executable, bench-swift (bench/swift), runs `bench-swift SYSTEM W1|W3|W4`
and prints the same JSON line; its rows get their own table section, ratios
(swift-rtctx / best Swift peer) and chart row, apart from the C rows.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

SYSTEMS = ["rtctx", "dispatch", "libuv", "glib", "tokio", "naive"]
GROUPS = ["W1", "W2", "W3", "W3pin", "W4", "W5", "M1"]

# The third field of a row: compared, or shown apart and left out of the
# ratios (an inline round trip, a W5 run without any blocking hint).
COMPARED, INLINE, INFORMATIVE = 0, 1, 2

# metric id -> (title, unit, group, json key)
# Swift API rows (bench/swift): systems of the one executable bench-swift,
# the workloads it runs, the metrics compared, and the chart's short labels
# (filled from `bench-swift SYSTEM list`).
SWIFT_SYSTEMS = ["swift-rtctx", "swift-global", "swift-nio"]
SWIFT_GROUPS = ["W1", "W3", "W4"]
SWIFT_METRICS = ["W1", "W3", "W3p99", "W4"]
SWIFT_SHORT = {}  # (system, variant label) -> short chart label


def is_swift(system):
    return system in SWIFT_SYSTEMS


def system_rank(system):
    return SYSTEMS.index(system) if system in SYSTEMS else len(SYSTEMS) + SWIFT_SYSTEMS.index(system)


METRICS = [
    ("W1", "W1 spawn, 1 outside thread, 1,000,000 tasks", "ns/task", "W1", "ns_per_task"),
    ("W2", "W2 spawn, 4 outside threads x 250,000 tasks", "ns/task", "W2", "ns_per_task"),
    ("W3", "W3 round trip, 100,000 sequential calls: median", "µs", "W3", "median_us"),
    ("W3p99", "W3 round trip: p99", "µs", "W3", "p99_us"),
    ("W3pin", "W3 pinned (taskset -c 0): median", "µs", "W3pin", "median_us"),
    ("W3pin_p99", "W3 pinned (taskset -c 0): p99", "µs", "W3pin", "p99_us"),
    ("W4", "W4 fan-out, 1 task spawns 100,000 children", "ns/child", "W4", "ns_per_child"),
    ("W5tput", "W5 mixed stream, 100,000 tasks offered at 100,000/s, 1 in 10 sleeps 1 ms: "
     "throughput", "tasks/s", "W5", "tasks_per_s"),
    ("W5p99", "W5 mixed stream: p99 of the short tasks' submission-to-start latency", "µs",
     "W5", "short_p99_us"),
    ("M1", "M1 memory per queued task (1,000,000 queued)", "bytes/task", "M1", "bytes_per_task"),
    ("M1idle", "M1 idle RSS of the process, runtime with 2 workers", "KiB", "M1", "idle_rss_kib"),
]


# Metrics where more is better: the ratio is then best peer / rtctx, so
# that below 1 still means rtctx wins.
HIGHER_BETTER = {"W5tput"}

# W5 facts shown beside its rows in results.md (json key -> column title).
W5_FACTS = [("short_p50_us", "short p50 µs"), ("short_p999_us", "short p99.9 µs"),
            ("blocking_p99_us", "blocking p99 µs"), ("cpu_s", "CPU s (process)"),
            ("threads_at_end", "threads at end"),
            ("blocking_threads_peak", "rtctx pool peak")]


def log(msg):
    print(msg, flush=True)


def run_json(argv, timeout):
    """Runs one cell; returns (dict or None, error string)."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    except OSError as e:
        return None, str(e)
    if p.returncode != 0:
        err = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        return None, f"exit {p.returncode}: {err}"
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            return json.loads(line), ""
        except ValueError:
            continue
    return None, "no JSON line in the output"


def fmt(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--out-dir", default=".")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--timeout", type=int, default=90, help="per process, seconds")
    ap.add_argument("--budget", type=float, default=float(os.environ.get("BENCH_BUDGET", 240)),
                    help="seconds: start no new round that would likely end after this")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--workloads", default=",".join(GROUPS),
                    help="which of " + ",".join(GROUPS) + " to run (default: all)")
    ap.add_argument("--swift-systems", default="",
                    help="Swift API rows of bench-swift (bench/swift), e.g. "
                         + ",".join(SWIFT_SYSTEMS) + "; none by default")
    ap.add_argument("--raw", metavar="RAW_JSONL",
                    help="where to write the raw runs (default: BIN_DIR/raw.jsonl)")
    ap.add_argument("--from-raw", metavar="RAW_JSONL",
                    help="run nothing: rebuild the table, results.md and chart from "
                         "the raw.jsonl of an earlier run")
    args = ap.parse_args()

    t_start = time.time()
    load_start = os.getloadavg()
    bin_dir = os.path.abspath(args.bin_dir)
    out_dir = os.path.abspath(args.out_dir)
    chart_dir = os.path.join(bin_dir, "chart")
    os.makedirs(chart_dir, exist_ok=True)
    os.makedirs(out_dir, exist_ok=True)
    raw_path = os.path.abspath(args.raw) if args.raw else os.path.join(bin_dir, "raw.jsonl")
    if args.from_raw:
        raw_path = os.path.abspath(args.from_raw)
        raw = open(os.devnull, "w")
    else:
        raw = open(raw_path, "w")

    # ---- which systems are there, and their W3 variants ---------------
    systems, info, skipped = [], {}, {}
    for s in args.systems.split(","):
        exe = os.path.join(bin_dir, f"bench-{s}")
        if not os.access(exe, os.X_OK):
            skipped[s] = f"not built (see {bin_dir}/build-{s}.log)"
            log(f"bench: SKIPPING {s}: {skipped[s]}")
            continue
        d, err = run_json([exe, "list"], 20)
        if d is None:
            skipped[s] = f"`bench-{s} list` failed: {err}"
            log(f"bench: SKIPPING {s}: {skipped[s]}")
            continue
        systems.append(s)
        info[s] = d
    # Swift API rows: one executable, `bench-swift SYSTEM list|W1|W3|W4 ...`.
    swift_exe = os.path.join(bin_dir, "bench-swift")
    for s in filter(None, args.swift_systems.split(",")):
        if s not in SWIFT_SYSTEMS:
            log(f"bench: SKIPPING {s}: not a Swift system ({', '.join(SWIFT_SYSTEMS)})")
            continue
        if not os.access(swift_exe, os.X_OK):
            skipped[s] = f"not built (see {bin_dir}/build-swift.log)"
            log(f"bench: SKIPPING {s}: {skipped[s]}")
            continue
        d, err = run_json([swift_exe, s, "list"], 20)
        if d is None:
            skipped[s] = f"`bench-swift {s} list` failed: {err}"
            log(f"bench: SKIPPING {s}: {skipped[s]}")
            continue
        systems.append(s)
        info[s] = d
        for g in SWIFT_GROUPS:
            for v in d["workloads"][g]:
                SWIFT_SHORT[(s, v["label"])] = v.get("short", v["label"])
    if "rtctx" not in systems:
        log("bench: rtctx itself is not available: nothing to compare")
    taskset = shutil.which("taskset")
    if not taskset:
        log("bench: no taskset: the pinned W3 rows are skipped")

    # ---- cells -------------------------------------------------------------
    # row key: (system, variant label or "", inline flag)
    cells = {g: {s: [] for s in systems} for g in GROUPS}
    for s in systems:
        if is_swift(s):  # W1, W3, W4, every variant; not pinned
            for g in SWIFT_GROUPS:
                for v in info[s]["workloads"][g]:
                    cells[g][s].append(((s, v["label"], v["inline"]),
                                        [swift_exe, s, g, "-v", str(v["index"])]))
            continue
        exe = os.path.join(bin_dir, f"bench-{s}")
        for g in ("W1", "W2", "W4", "M1"):
            cells[g][s].append(((s, "", False), [exe, g]))
        for v in info[s].get("mixed", []):
            row = (s, v["label"], INFORMATIVE if v["informative"] else COMPARED)
            cells["W5"][s].append((row, [exe, "W5", "-v", str(v["index"])]))
        for v in info[s]["variants"]:
            row = (s, v["label"], INLINE if v["inline"] else COMPARED)
            cells["W3"][s].append((row, [exe, "W3", "-v", str(v["index"])]))
            if taskset and not v["inline"]:
                cells["W3pin"][s].append((row, [taskset, "-c", "0", exe, "W3", "-v", str(v["index"])]))

    wanted = set(args.workloads.split(","))
    for g in GROUPS:
        if g not in wanted:
            cells[g] = {s: [] for s in systems}
    values = {}  # (metric id, row) -> [floats]
    w5_facts = {}  # row -> {json key: [floats]}
    extra = {}   # (metric id, row) -> notes
    failures = []
    rounds_done = 0
    round_times = []

    def ingest(d, g, row):
        for mid, _t, _u, mg, key in METRICS:
            if mg == g and key in d and d[key] is not None and d[key] >= 0:
                values.setdefault((mid, row), []).append(float(d[key]))
        if g == "W5":
            for key, _title in W5_FACTS:
                if d.get(key) is not None:
                    w5_facts.setdefault(row, {}).setdefault(key, []).append(float(d[key]))
        if g == "M1" and d.get("queued", 0) < d.get("n", 0):
            extra[("M1", row)] = (f"only {d['queued']} of {d['n']} stayed queued "
                                  f"(the system ran the rest meanwhile)")

    if args.from_raw:  # re-render the table and chart of an earlier run
        rounds_seen = set()
        with open(args.from_raw) as f:
            for line in f:
                d = json.loads(line)
                if d["system"] not in systems:
                    continue
                g = "W3pin" if d.get("pinned") else d["workload"]
                flag = (INFORMATIVE if d.get("informative") else
                        INLINE if d.get("inline") else COMPARED)
                ingest(d, g, (d["system"], d.get("variant", ""), flag))
                rounds_seen.add(d.get("round"))
        rounds_done = len(rounds_seen)
    for r in range(0 if args.from_raw else args.rounds):
        t_round = time.time()
        if round_times and (t_round - t_start) + max(round_times) > args.budget:
            log(f"bench: stopping after {rounds_done} round(s) to stay within the "
                f"{args.budget:.0f} s budget (BENCH_BUDGET)")
            break
        order = systems[r % len(systems):] + systems[:r % len(systems)] if systems else []
        log(f"bench: round {r + 1}/{args.rounds} (order: {' '.join(order)})")
        for g in GROUPS:
            for s in order:
                for row, argv in cells[g][s]:
                    t_cell = time.time()
                    d, err = run_json(argv, args.timeout)
                    t_cell = time.time() - t_cell
                    name = f"{s} {g}" + (f" [{row[1]}]" if row[1] else "")
                    if d is None:
                        failures.append(f"{name}: {err}")
                        log(f"bench:   {name}: FAILED: {err}")
                        continue
                    d["round"] = r + 1
                    d["wall_s"] = round(t_cell, 3)
                    d["pinned"] = g == "W3pin"
                    raw.write(json.dumps(d) + "\n")
                    ingest(d, g, row)
        rounds_done += 1
        round_times.append(time.time() - t_round)
        log(f"bench: round {r + 1} took {round_times[-1]:.0f} s")
    raw.close()
    elapsed = time.time() - t_start
    load_end = os.getloadavg()

    # ---- aggregate ---------------------------------------------------------
    def row_label(row):
        s, v, inl = row
        if not v:
            return s
        lab = f"{s}: {v}"
        return lab + FLAG_NOTE.get(inl, "")

    variant_order = {(s, v["label"], INLINE if v["inline"] else COMPARED): v["index"]
                     for s in systems for v in info[s]["variants"]}
    variant_order.update({(s, v["label"], INFORMATIVE if v["informative"] else COMPARED):
                          v["index"] for s in systems for v in info[s].get("mixed", [])})
    variant_order.update({(s, v["label"], v["inline"]): v["index"]
                          for s in systems if is_swift(s)
                          for g in SWIFT_GROUPS for v in info[s]["workloads"][g]})
    table = []  # (mid, title, unit, row, med, lo, hi, count)
    for mid, title, unit, g, key in METRICS:
        rows = [k[1] for k in values if k[0] == mid]
        rows.sort(key=lambda row: (system_rank(row[0]), row[2], variant_order.get(row, 0)))
        for row in rows:
            vs = values[(mid, row)]
            table.append((mid, title, unit, row, statistics.median(vs), min(vs), max(vs), len(vs)))

    summary = []  # (mid, title, unit, rtctx med, best row, best med, ratio, rtctx row)
    for mid, title, unit, g, key in METRICS:
        mine = [t for t in table if t[0] == mid and t[3][0] == "rtctx" and not t[3][2]]
        peers = [t for t in table if t[0] == mid and t[3][0] != "rtctx" and not t[3][2]
                 and not is_swift(t[3][0])]
        if not mine or not peers:
            continue
        if mid in HIGHER_BETTER:
            best = max(peers, key=lambda t: t[4])
        else:
            best = min(peers, key=lambda t: t[4])
        # W5 compares each rtctx way of running blocking work; the others
        # have one rtctx row.
        for t in (mine if g == "W5" else mine[:1]):
            if mid in HIGHER_BETTER:
                ratio = best[4] / t[4] if t[4] > 0 else float("nan")
            else:
                ratio = t[4] / best[4] if best[4] > 0 else float("nan")
            summary.append((mid, title, unit, t[4], best[3], best[4], ratio, t[3]))

    # Swift API rows: each swift-rtctx row / the best Swift peer row, and the
    # C rtctx figure beside it for reference.
    swift_table = [t for t in table if is_swift(t[3][0])]
    table = [t for t in table if not is_swift(t[3][0])]
    swift_summary = []  # (mid, title, unit, row, med, best row, best med, ratio, C rtctx med)
    for mid, title, unit, g, key in METRICS:
        mine = [t for t in swift_table if t[0] == mid and t[3][0] == "swift-rtctx" and not t[3][2]]
        peers = [t for t in swift_table if t[0] == mid and t[3][0] != "swift-rtctx" and not t[3][2]]
        c_rtctx = [t[4] for t in table if t[0] == mid and t[3][0] == "rtctx" and not t[3][2]]
        if not mine or not peers:
            continue
        best = min(peers, key=lambda t: t[4])
        for t in mine:
            swift_summary.append((mid, title, unit, t[3], t[4], best[3], best[4],
                                  t[4] / best[4] if best[4] > 0 else float("nan"),
                                  c_rtctx[0] if c_rtctx else None))

    # ---- console -----------------------------------------------------------
    log("")
    log(f"{'workload':<12} {'system':<58} {'median':>9} {'min-max':>19} {'unit':<10} runs")
    last = None
    for mid, title, unit, row, med, lo, hi, cnt in table:
        if mid != last:
            log(f"-- {title}")
            last = mid
        log(f"{mid:<12} {row_label(row):<58} {fmt(med):>9} {fmt(lo) + '-' + fmt(hi):>19} {unit:<10} {cnt}")
    log("")
    log("rtctx / best peer (lower is better, but for W5tput, tasks/s, where the ratio is "
        "best peer / rtctx; < 1 means rtctx wins):")
    for mid, title, unit, mine, brow, bmed, ratio, mrow in summary:
        which = f" [{mrow[1]}]" if mrow[1] and mid.startswith("W5") else ""
        log(f"  {mid:<10} rtctx{which} {fmt(mine):>8} {unit:<10} best peer {row_label(brow):<45} "
            f"{fmt(bmed):>8}   ratio {ratio:.2f}")
    if swift_table:
        log("")
        log("Swift API rows (bench/swift: module Rtctx, Swift's global executor, SwiftNIO; "
            "2 threads each):")
        log(f"{'workload':<12} {'system':<58} {'median':>9} {'min-max':>19} {'unit':<10} runs")
        last = None
        for mid, title, unit, row, med, lo, hi, cnt in swift_table:
            if mid != last:
                log(f"-- {title}")
                last = mid
            log(f"{mid:<12} {row_label(row):<58} {fmt(med):>9} {fmt(lo) + '-' + fmt(hi):>19} "
                f"{unit:<10} {cnt}")
        log("")
        log("swift-rtctx / best Swift peer (< 1 means rtctx wins; C rtctx for reference):")
        for mid, title, unit, row, med, brow, bmed, ratio, cmed in swift_summary:
            log(f"  {mid:<6} {row[1]:<44} {fmt(med):>8} {unit:<8} best {row_label(brow):<42} "
                f"{fmt(bmed):>8}   ratio {ratio:.2f}   C rtctx {fmt(cmed)}")
    for f in failures:
        log(f"bench: failed cell: {f}")
    log(f"bench: {rounds_done} round(s), {elapsed:.0f} s of runs; load average "
        f"{load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end")

    # ---- chart -------------------------------------------------------------
    chart_ok, chart_msg = draw_chart(table, rounds_done, chart_dir, out_dir, swift_table)
    log(f"bench: {chart_msg}")

    # ---- results.md --------------------------------------------------------
    w5_rows = [(row, {k: statistics.median(v) for k, v in w5_facts[row].items()})
               for row in sorted(w5_facts, key=lambda row: (system_rank(row[0]), row[2],
                                                            variant_order.get(row, 0)))]
    write_markdown(os.path.join(out_dir, "results.md"), table, summary, info, skipped,
                   failures, extra, rounds_done, elapsed, load_start, load_end, chart_ok,
                   systems, swift_table, swift_summary, w5_rows)
    log(f"bench: wrote {os.path.join(out_dir, 'results.md')}; raw runs in {raw_path}")
    return 0


# ---------------------------------------------------------------------------

CHART_PANELS = ["W1", "W2", "W4", "M1", "W3", "W3p99", "W3pin", "M1idle"]


def short_label(row):
    s, v, inl = row
    if is_swift(s):
        return SWIFT_SHORT.get((s, v), v)
    if not v:
        return s
    short = {
        "g_thread_pool_push+GCond": "glib pool",
        "g_main_context_invoke+GCond": "glib invoke",
    }.get(v)
    return short or s


def draw_chart(table, rounds, chart_dir, out_dir, swift_table=()):
    gp = shutil.which("gnuplot")
    if not gp:
        return False, "no gnuplot (apt-get install gnuplot-nox): chart.png not drawn"
    titles = {m[0]: (m[1], m[2]) for m in METRICS}
    short_titles = {
        "W1": "W1: 1 thread posts 1M tasks",
        "W2": "W2: 4 threads post 250k each",
        "W3": "W3: round trip, median",
        "W3p99": "W3: round trip, p99",
        "W3pin": "W3 pinned (taskset -c 0), median",
        "M1": "M1: bytes per queued task",
        "M1idle": "M1: idle process RSS",
        "W4": "W4: a task spawns 100k children",
    }
    # Swift API rows: a third row of panels, apart from the C rows.
    swift_panels = [m for m in SWIFT_METRICS if any(t[0] == m for t in swift_table)]
    height, layout = (1400, "3,4") if swift_panels else (950, "2,4")
    script = [
        f'set terminal pngcairo size 1800,{height} font "DejaVu Sans,11"',
        f"set output '{os.path.join(out_dir, 'chart.png')}'",
        f'set multiplot layout {layout} title "rtctx benchmark: median of {rounds} runs per bar, '
        f'whiskers min–max, 2 workers each (naive: 1), lower is better" font ",13"',
        "set style fill solid 0.85 border rgb '#333333'",
        "set boxwidth 0.7",
        "set grid ytics lc rgb '#dddddd'",
        "unset key",
        "set xtics rotate by -40 left nomirror font ',10'",
        "set ytics nomirror",
        "set border 3",
        "set yrange [0:*]",
        "set bmargin 6",
        "set offsets 0,0,graph 0.1,0",
    ]
    panels = [(mid, table, mid, short_titles[mid]) for mid in CHART_PANELS]
    panels += [(mid, swift_table, f"swift-{mid}", "Swift API " + short_titles[mid])
               for mid in swift_panels]
    for mid, source, name, panel_title in panels:
        rows = [t for t in source if t[0] == mid and not t[3][2]]
        if not rows:
            script.append("set multiplot next")
            continue
        dat = os.path.join(chart_dir, f"{name}.dat")
        with open(dat, "w") as f:
            for _m, _t, _u, row, med, lo, hi, _c in rows:
                color = 0xE8590C if row[0] in ("rtctx", "swift-rtctx") else 0x4C6EF5
                f.write(f'"{short_label(row)}" {med:.6g} {lo:.6g} {hi:.6g} {color}\n')
        script += [
            f'set title "{panel_title}"',
            f'set ylabel "{titles[mid][1]}"',
            f"plot '{dat}' using 0:2:5:xtic(1) with boxes lc rgb variable, "
            f"'' using 0:3:(0):($4-$3) with vectors nohead lc rgb 'black' lw 1.5, "
            f"'' using ($0-0.12):3:(0.24):(0) with vectors nohead lc rgb 'black' lw 1.5, "
            f"'' using ($0-0.12):4:(0.24):(0) with vectors nohead lc rgb 'black' lw 1.5, "
            f"'' using 0:4:($2 >= 100 ? sprintf('%.0f', $2) : sprintf('%.3g', $2)) "
            f"with labels offset 0,0.8 font ',9'",
        ]
    script.append("unset multiplot")
    gpath = os.path.join(chart_dir, "chart.gp")
    with open(gpath, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run([gp, gpath], capture_output=True, text=True)
    if p.returncode != 0:
        return False, f"gnuplot failed: {p.stderr.strip()[-300:]}"
    return True, f"wrote {os.path.join(out_dir, 'chart.png')}"


def machine_facts():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, Linux {platform.release()}"


def tool_version(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def write_markdown(path, table, summary, info, skipped, failures, extra, rounds, elapsed,
                   load_start, load_end, chart_ok, systems, swift_table=(), swift_summary=(),
                   w5_rows=()):
    L = []
    L.append("# rtctx benchmark results")
    L.append("")
    L.append("Generated by `make bench` (bench/run.py); do not edit by hand. "
             f"Run on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}: {machine_facts()}. "
             f"{rounds} round(s), interleaved, every cell a fresh process; {elapsed:.0f} s of runs; "
             f"load average {load_start[0]:.2f} at the start and {load_end[0]:.2f} at the end "
             "(well above 0 means other work shared the CPUs and the figures are noisy).")
    L.append("")
    if chart_ok:
        L.append("![rtctx benchmark chart](chart.png)")
        L.append("")
    L.append("## rtctx / best peer")
    L.append("")
    L.append("Lower is better for every metric but W5's throughput, where the ratio is "
             "best peer / rtctx; a ratio below 1 means rtctx wins. "
             "Inline round trips (no hop) and W5's run without a blocking hint are left out "
             "of the comparison.")
    L.append("")
    L.append("| metric | rtctx | best peer | peer | rtctx / best |")
    L.append("|---|---:|---|---:|---:|")
    for mid, title, unit, mine, brow, bmed, ratio, mrow in summary:
        which = f" `{mrow[1]}`" if mrow[1] and mid.startswith("W5") else ""
        L.append(f"| {title} ({unit}) | {fmt(mine)}{which} | {label_md(brow)} | {fmt(bmed)} | "
                 f"{ratio:.2f} |")
    L.append("")
    L.append("## All cells: median (min–max)")
    L.append("")
    L.append("| metric | system | median | min–max | unit | runs |")
    L.append("|---|---|---:|---:|---|---:|")
    for mid, title, unit, row, med, lo, hi, cnt in table:
        note = extra.get((mid, row))
        sysl = label_md(row) + (f" ({note})" if note else "")
        L.append(f"| {title} | {sysl} | {fmt(med)} | {fmt(lo)}–{fmt(hi)} | {unit} | {cnt} |")
    L.append("")
    if w5_rows:
        L.append("## W5 in detail: medians of the runs")
        L.append("")
        L.append("| system | " + " | ".join(t for _k, t in W5_FACTS) + " |")
        L.append("|---|" + "---:|" * len(W5_FACTS))
        for row, f in w5_rows:
            L.append(f"| {label_md(row)} | "
                     + " | ".join(fmt(f.get(k)) for k, _t in W5_FACTS) + " |")
        L.append("")
    if swift_table:
        write_swift_markdown(L, swift_table, swift_summary)
    L.append("## Systems")
    L.append("")
    swift = tool_version(["swift", "--version"])
    for s in systems:
        d = info[s]
        ver = d.get("version") or (swift if s in ("dispatch", "swift-global") else "")
        L.append(f"- **{s}** {ver}: {d.get('api', '')}")
    for s, why in skipped.items():
        L.append(f"- **{s}**: skipped, {why}")
    L.append("")
    L.append("## Method")
    L.append("")
    L.append("""- One C driver (bench/driver.c) runs the same workloads through a small adapter per
  system (bench/adapters/); tokio's adapter is a Rust static library (bench/tokio/) with C
  entry points. Each system is its own executable, built with `cc -O2`.
- A task is one relaxed atomic increment; the task that brings the counter to its target
  posts a POSIX semaphore that the timing thread waits on. Each process warms up with
  10,000 tasks (and 1,000 round trips for W3) before it times anything.
- Every system gets 2 worker threads: rtctx `workers = 2`, tokio `worker_threads(2)`,
  GLib an exclusive GThreadPool of 2, libuv `UV_THREADPOOL_SIZE=2` (plus its loop thread,
  which libuv needs to call `uv_queue_work`), libdispatch's global queue (its width is the
  CPU count, 2). The naive baseline has one worker by design.
- W3 hop rows run the call on another thread and wait for it: `rt_block_on`,
  `dispatch_async_f` + semaphore, tokio `Handle::spawn` + `Handle::block_on` of a oneshot
  receiver, a post + condvar/semaphore wait elsewhere. `dispatch_sync_f` and tokio's
  `Handle::block_on(async { f() })` run the function on the calling thread: they are the
  rows marked "inline, no hop" and are not compared. The unpinned round trip is bimodal on
  2-vCPU VMs (both threads on one vCPU, or across), hence the median, the p99 and the run
  pinned to CPU 0 with `taskset -c 0` (all threads on one CPU).
- W4: one task posted from outside spawns the children through the from-task path (rtctx
  `rt_spawn(rt_handle_current())`, `tokio::spawn`, the same post call elsewhere).
- M1: every worker is blocked by a task waiting on a semaphore, then 1,000,000 tasks are
  posted; bytes per task = RSS growth / tasks still queued. Idle RSS: the whole process
  (driver + libraries + runtime) after start-up, 10,000 tasks and 100 ms idle.
- W5: one outside thread offers 100,000 tasks at 100,000/s (a batch of 10 every 100 µs,
  on absolute `clock_nanosleep` deadlines, so a late batch is followed at once by the
  next; timer slack 1 µs for every thread of the process). The first task of each batch,
  1 in 10, sleeps 1 ms in `nanosleep`; the others spin 3 µs on the clock. Latency is from
  the clock read just before the post call to the task's first clock read (its start),
  for every task; the compared figure is the short tasks' p99. Throughput is 100,000 /
  (first submission to last completion): a system that keeps up shows about the offered
  rate. rtctx: short tasks `rt_spawn`, blocking ones `rt_spawn_blocking` (a job is a
  malloc'd function and argument), or `rt_spawn` with the sleep inside
  `rt_blocking_begin()`/`rt_blocking_end()`, or `rt_spawn` with no hint at all
  (informative, not compared); tokio `Handle::spawn` and `Handle::spawn_blocking`;
  libdispatch `dispatch_async_f` of both onto the default global queue. Default pool
  limits everywhere (rtctx and tokio: 512 blocking threads, 10 s keep-alive).
- Instructions per task under callgrind: `make -C bench callgrind` (bench/callgrind.sh).""")
    if swift_table:
        L.append(SWIFT_METHOD)
    L.append("")
    if failures:
        L.append("## Failed cells")
        L.append("")
        for f in failures:
            L.append(f"- {f}")
        L.append("")
    with open(path, "w") as f:
        f.write("\n".join(L))


def write_swift_markdown(L, swift_table, swift_summary):
    L.append("## Swift API rows (bench/swift)")
    L.append("")
    L.append("Async Swift and Swift closures on rtctx's Swift module (`Rtctx`), on Swift's "
             "default global concurrent executor and on SwiftNIO's "
             "`MultiThreadedEventLoopGroup`, 2 threads each, from `bench-swift` (a separate "
             "Swift package); W1, W3 and W4 as above, in the same rounds. Compared among "
             "themselves; the C rtctx column is for reference only (a Swift `Task` or "
             "closure per job is a different unit of work from a C function pointer).")
    L.append("")
    L.append("| metric | swift-rtctx | median | best Swift peer | peer | swift-rtctx / best | "
             "C rtctx |")
    L.append("|---|---|---:|---|---:|---:|---:|")
    for mid, title, unit, row, med, brow, bmed, ratio, cmed in swift_summary:
        L.append(f"| {title} ({unit}) | `{row[1]}` | {fmt(med)} | {label_md(brow)} | "
                 f"{fmt(bmed)} | {ratio:.2f} | {fmt(cmed)} |")
    L.append("")
    L.append("| metric | system | median | min–max | unit | runs |")
    L.append("|---|---|---:|---:|---|---:|")
    for mid, title, unit, row, med, lo, hi, cnt in swift_table:
        L.append(f"| {title} | {label_md(row)} | {fmt(med)} | {fmt(lo)}–{fmt(hi)} | {unit} | {cnt} |")
    L.append("")


SWIFT_METHOD = """- Swift API rows (bench/swift, `make bench BENCH_SWIFT=1`): one Swift executable,
  `bench-swift SYSTEM W1|W3|W4`, release build; a job is the same relaxed atomic increment
  and the last one posts a POSIX semaphore. The timing thread is the process's main
  thread, which is no Swift task. swift-rtctx: `Runtime(workers: 2)`; W1 and W4 once with a
  `Task(executorPreference: handle)` per job (children started with the same preference
  inside such a task) and once with `handle.spawn { }`; W3 `handle.blockOn { }` with a
  sync body and with an async body. swift-global: `Task { }` on the default global
  concurrent executor (its width is the CPU count, 2; it cannot be set); round trip
  `Task { }` + `DispatchSemaphore`. swift-nio: `MultiThreadedEventLoopGroup(numberOfThreads:
  2)`; W1 `group.next().execute` (round robin over both loops) and `loop.execute` on one
  loop; W3 `loop.submit { }.wait()`; W4 from a job on a loop, `loop.execute` onto its own
  loop and `group.next().execute` round robin. Not pinned (no W3pin row)."""


FLAG_NOTE = {INLINE: " (inline, no hop)", INFORMATIVE: " (informative, not compared)"}


def label_md(row):
    s, v, inl = row
    if not v:
        return s
    lab = f"{s}: `{v}`"
    return lab + FLAG_NOTE.get(inl, "")


if __name__ == "__main__":
    sys.exit(main())
