#!/usr/bin/env python3
"""bench/report.py RAW - turns bench/run.sh's raw figures into one markdown table per part,
with the baselines of the same run, the ratios, and where each goal of issue 5 stands."""
import statistics
import sys


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            row = {"tag": parts[0]}
            for p in parts[1:]:
                if "=" in p:
                    k, v = p.split("=", 1)
                    if k in ("commit", "built", "place", "what", "server", "bound", "tool"):
                        row[k] = v
                        continue
                    try:
                        row[k] = float(v)
                    except ValueError:
                        row[k] = v
            rows.append(row)
    return rows


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=0, unit=""):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}{unit}"
    return f"{v:,.{digits}f}{unit}"


def verdict(ok, how):
    if ok is None:
        return "n/a"
    return ("**met** " if ok else "**missed** ") + how


rows = parse(sys.argv[1])
by = lambda tag: [r for r in rows if r["tag"] == tag]
out = []
p = out.append
goals = []

# ---- hand-off ----
p("### Hand-off\n")
p("| measurement | library | baseline (same run) | ratio | goal | verdict |")
p("|---|---|---|---|---|---|")
single = by("handoff.single")
if single:
    s = single[0]
    ns, sc = s["ns_per_pair"], s["syscalls_per_pair"]
    ok = ns <= 100 and sc < 0.01
    v = verdict(ok, f"({ns / 100:.2f}× the 100 ns budget, {sc:.3f} syscalls)")
    p(f"| post + wait({{0,0}}), one thread, non-empty port | {ns:.1f} ns/pair, "
      f"{sc:.3f} syscalls/pair | — | — | ≤ 100 ns, no syscall | {v} |")
    goals.append(("Hand-off ≤ 100 ns per pair, no syscall", v))
for r in by("handoff.pingpong"):
    where = {"none": "unpinned", "same": "same CPU (both on CPU 0)",
             "cross": "across CPUs (0 and 1)"}[r["place"]]
    ratio = r["ratio"]
    v = verdict(ratio <= 1.2, f"({ratio:.2f}×)")
    p(f"| post → blocked waiter, round trip, {where} | {r['lib_rtt_ns'] / 1e3:.1f} µs, "
      f"{r['lib_syscalls_per_rt']:.1f} syscalls | raw futex {r['futex_rtt_ns'] / 1e3:.1f} µs, "
      f"{r['futex_syscalls_per_rt']:.1f} syscalls | {ratio:.2f}× | ≤ 1.2× | {v} |")
    goals.append((f"Cross-thread wake ≤ 1.2× raw futex ({where})", v))

# ---- echo ----
echo = [r for r in by("echo") if "rps" in r]
failed = by("echo.failed")
servers = [s for s in ["qso", "epoll", "uv", "qso1", "epoll2"] if any(r["server"] == s for r in echo)]
names = {"qso": "library (2 workers)", "epoll": "raw epoll (1 thread)", "uv": "libuv",
         "qso1": "library (1 worker)", "epoll2": "raw epoll (2 threads)",
         "uring": "io_uring, single-issuer ring", "uring_shared": "io_uring, shared ring",
         "uring_contract": "io_uring, shared ring, Qso start rules"}
if echo:
    reps = int(max(r["rep"] for r in echo))
    p(f"\n### Echo (medians of {reps} interleaved round{'s' if reps > 1 else ''}; "
      "requests/s, latency p50 / p99 in µs)\n")
    p("Goal rows compare servers with the same number of threads: the library with 1 worker "
      "against epoll with 1 thread, and with 2 workers against epoll with 2 threads (on these "
      "2 vCPUs the load generator needs one of them). The column \"2 workers ÷ epoll 1 thread\" "
      "is the comparison of the first tables, kept for continuity.\n")
    hdr = "| conns | size | " + " | ".join(names[s] for s in servers) + \
          " | 2 workers ÷ epoll 1 thread (rps; p99) | 1 ÷ 1 (rps; p99) | 2 ÷ 2 (rps; p99) | verdict (goal: rps ≥ 1.0×, p99 ≤ 1.2×) |"
    p(hdr)
    p("|" + "---|" * (hdr.count("|") - 1))
    for c in [1, 100, 1000]:
        for size in [64, 4096]:
            cells = {}
            for s in servers:
                rs = [r for r in echo if r["server"] == s and r["conns"] == c and r["size"] == size]
                if rs:
                    cells[s] = (med([r["rps"] for r in rs]), med([r["p50_us"] for r in rs]),
                                med([r["p99_us"] for r in rs]), sum(r["errors"] for r in rs))
            if not cells:
                continue
            line = f"| {c} | {size} B | "
            for s in servers:
                if s in cells:
                    rps, p50, p99, err = cells[s]
                    e = f" ({int(err)} errors)" if err else ""
                    line += f"{fmt(rps)} rps; {fmt(p50, 1)} / {fmt(p99, 1)}{e} | "
                else:
                    line += "— | "
            def pair(lib, base):
                if lib in cells and base in cells:
                    return cells[lib][0] / cells[base][0], cells[lib][2] / cells[base][2]
                return None
            verdicts = []
            for lib, base, label in [("qso", "epoll", None), ("qso1", "epoll", "1 worker ÷ 1 thread"),
                                     ("qso", "epoll2", "2 workers ÷ 2 threads")]:
                r = pair(lib, base)
                line += f"{r[0]:.2f}×; {r[1]:.2f}× | " if r else "n/a | "
                if r and label and c != 1:
                    v = verdict(r[0] >= 1.0 and r[1] <= 1.2, f"(rps {r[0]:.2f}×, p99 {r[1]:.2f}×)")
                    goals.append((f"Echo {c} conns {size} B, {label}: rps ≥ 1.0×, p99 ≤ 1.2×", v))
                    verdicts.append(f"{label}: {v}")
            line += ("(no goal at 1)" if c == 1 else "; ".join(verdicts) or "n/a") + " |"
            p(line)

    if any("server_cpu_us_per_msg" in r for r in echo):
        p("\nServer CPU time per echoed message (µs; all the server's threads, warm-up included; "
          "robust to other load on the machine, unlike requests/s):\n")
        p("| conns | size | " + " | ".join(names[s] for s in servers) +
          " | 2 workers ÷ epoll 1 thread | 1 ÷ 1 | 2 ÷ 2 |")
        p("|---|---|" + "---|" * (len(servers) + 3))
        for c in [1, 100, 1000]:
            for size in [64, 4096]:
                cpu = {}
                for s_ in servers:
                    v = med([r.get("server_cpu_us_per_msg") for r in echo if r["server"] == s_
                             and r["conns"] == c and r["size"] == size
                             and isinstance(r.get("server_cpu_us_per_msg"), float)])
                    if v is not None:
                        cpu[s_] = v
                if not cpu:
                    continue
                ratios = " | ".join(f"{cpu[a] / cpu[b]:.2f}×" if a in cpu and b in cpu else "n/a"
                                    for a, b in [("qso", "epoll"), ("qso1", "epoll"),
                                                 ("qso", "epoll2")])
                p(f"| {c} | {size} B | " + " | ".join(fmt(cpu.get(s_), 2) if s_ in cpu else "—"
                                                   for s_ in servers) + f" | {ratios} |")
    uring = [s_ for s_ in ["uring", "uring_shared", "uring_contract"] if any(r["server"] == s_ for r in echo)]
    if uring:
        p("\n### io_uring peers (would an io_uring engine beat epoll here?)\n")
        p("The same load against `bench/uring_echo_server.c`: one thread, one ring, receive and "
          "send both submitted to the ring, one `io_uring_enter` per batch. The single-issuer "
          "ring (`SINGLE_ISSUER | DEFER_TASKRUN`) is io_uring's fast set-up but binds the ring to "
          "one thread; the shared ring (`COOP_TASKRUN`) is the set-up a completion port, where "
          "any thread submits and any thread waits, could use. \"Qso start rules\" adds what the "
          "library's start calls must still do with such an engine: the echo sent at once with "
          "`send()`, the next receive tried at once with `recv(MSG_DONTWAIT)` and submitted only "
          "on EAGAIN (no identity check needed: the ring resolves the number at submission). Ratios are to raw epoll with 1 "
          "thread; the library's 1 worker is repeated for comparison.\n")
        p("| conns | size | raw epoll (1 thread): rps; CPU µs/msg | " +
          " | ".join(f"{names[s_]}: rps (÷ epoll); CPU (÷ epoll)" for s_ in uring + ["qso1"]) + " |")
        p("|---|---|---|" + "---|" * (len(uring) + 1))
        for c in [1, 100, 1000]:
            for size in [64, 4096]:
                def figures(s_):
                    rs = [r for r in echo if r["server"] == s_ and r["conns"] == c and r["size"] == size]
                    cpus = [r.get("server_cpu_us_per_msg") for r in rs
                            if isinstance(r.get("server_cpu_us_per_msg"), float)]
                    return (med([r["rps"] for r in rs]), med(cpus)) if rs else (None, None)
                base_rps, base_cpu = figures("epoll")
                if base_rps is None:
                    continue
                cells = []
                for s_ in uring + ["qso1"]:
                    rps, cpu = figures(s_)
                    if rps is None:
                        cells.append("—")
                        continue
                    cpu_cell = f"{cpu:.2f} ({cpu / base_cpu:.2f}×)" if cpu and base_cpu else "n/a"
                    cells.append(f"{fmt(rps)} ({rps / base_rps:.2f}×); {cpu_cell}")
                p(f"| {c} | {size} B | {fmt(base_rps)}; {fmt(base_cpu, 2)} | " + " | ".join(cells) + " |")
    if failed:
        p("\nRuns that gave no result (server or load generator failed twice): " +
          ", ".join(f"{names.get(r['server'], r['server'])} {int(r['conns'])}×{int(r['size'])} B "
                    f"(round {int(r['rep'])})" for r in failed))

# ---- syscalls ----
sysc = by("syscalls")
if sysc:
    p("\n### System calls per echoed message (separate, shorter runs with counting on; 64 B)\n")
    names_sc = ["all", "recvfrom", "sendto", "read", "write", "epoll_wait", "epoll_pwait", "epoll_pwait2",
                "epoll_ctl", "futex", "newfstatat", "timerfd_settime", "io_uring_enter"]
    present = [n for n in names_sc if any(n in r for r in sysc)]
    p("| server | conns | " + " | ".join(present) + " |")
    p("|---|---|" + "---|" * len(present))
    for r in sysc:
        p(f"| {names.get(r['server'], r['server'])} | {int(r['conns'])} | " +
          " | ".join(f"{r[n]:.2f}" if n in r else "0" for n in present) + " |")

# ---- scale ----
sc_rows = by("scale")
mx = by("scale.max")
if sc_rows or mx:
    p("\n### Scale (idle AF_UNIX connections, each with a pending receive, one port)\n")
    p("| measurement | value | baseline | ratio | goal | verdict |")
    p("|---|---|---|---|---|---|")
    if mx:
        m = mx[0]
        heap, rss = m["heap_per_op"], m["rss_per_op"]
        bound = m["bound"]
        note = "" if bound == "requested" else \
            f" (the most the descriptor limit of {int(m['nofile_limit'])} allows)"
        v = verdict(heap <= 256 and rss <= 256,
                    f"(heap {heap / 256:.2f}×, RSS {rss / 256:.2f}× the 256 B budget)")
        p(f"| library memory per pending receive, {int(m['conns']):,} connections{note} | "
          f"heap {fmt(heap)} B, RSS {fmt(rss)} B, VmData {fmt(m['data_per_op'])} B | "
          f"same sockets, no operation | — | ≤ 256 B | {v} |")
        goals.append(("≤ 256 B of library memory per pending operation", v))
        p(f"| first QsoStartRecv on a fresh socket | {fmt(m['start_recv_ns'] / 1e3, 1)} µs | "
          f"— | — | — | — |")
    small = med([r["rtt_ns"] for r in sc_rows if r["conns"] == 100])
    big = med([r["rtt_ns"] for r in sc_rows if r["conns"] == 10000])
    if small and big:
        ratio = small / big
        v = verdict(ratio >= 0.9, f"({ratio:.2f}×)")
        p(f"| recv→send round trip through the port, 10,000 idle-pending (median of "
          f"{len([r for r in sc_rows if r['conns'] == 10000])}) | {big / 1e3:.2f} µs | "
          f"100 idle-pending: {small / 1e3:.2f} µs | throughput {ratio:.2f}× | ≥ 0.9× | {v} |")
        goals.append(("Per-operation cost at 10,000 connections ≥ 0.9× that at 100", v))
        if mx:
            ra = small / mx[0]["rtt_ns"]
            p(f"| the same, {int(mx[0]['conns']):,} idle-pending | "
              f"{mx[0]['rtt_ns'] / 1e3:.2f} µs | 100: {small / 1e3:.2f} µs | "
              f"throughput {ra:.2f}× | — | — |")

# ---- timers ----
tl = by("timers.late")
if tl:
    p("\n### Timers (how late a wait returns after its timeout; µs)\n")
    p("| timeout | library, idle port (p50 / p99) | library, leader in epoll (p50 / p99) | "
      "clock_nanosleep baseline (p50 / p99) | goal | verdict |")
    p("|---|---|---|---|---|---|")
    for ms in [1, 10, 100]:
        get = lambda w: next((r for r in tl if r["what"] == w and r["timeout_ms"] == ms), None)
        i, l, b = get("idle"), get("leader"), get("nanosleep")
        cell = lambda r: f"{r['p50_us']:.0f} / {r['p99_us']:.0f} ({int(r['runs'])} runs)" if r else "n/a"
        worst = max(x["p50_us"] for x in (i, l) if x)
        extra = f", {worst - b['p50_us']:+.0f} µs against nanosleep" if b else ""
        v = verdict(worst <= 100, f"(worst p50 {worst:.0f} µs{extra})")
        goals.append((f"{ms} ms timeout late by ≤ 100 µs at p50", v))
        p(f"| {ms} ms | {cell(i)} | {cell(l)} | {cell(b)} | p50 ≤ 100 µs | {v} |")
    for r in by("timers.cpu"):
        v = verdict(r["cpu_ms"] <= 5 and r["syscalls"] <= 20,
                    f"({r['cpu_ms']:.2f} ms CPU, {int(r['syscalls'])} syscalls)")
        goals.append((f"No spinning while waiting ({r['what']})", v))
        p(f"| CPU during one {r['wait_s']:.1f} s wait, {r['what']} | {r['cpu_ms']:.2f} ms, "
          f"{int(r['syscalls'])} syscalls | | | ~0 | {v} |")

# ---- summary ----
if goals:
    p("\n### Goals of issue 5\n")
    p("| goal | verdict |")
    p("|---|---|")
    for g, v in goals:
        p(f"| {g} | {v} |")
lib = by("library")
if lib:
    p(f"\nLibrary measured: commit {lib[0]['commit']}"
      f"{' plus uncommitted changes in ' + str(int(lib[0]['modified_sources'])) + ' source files' if lib[0].get('modified_sources') else ''}"
      f", built {lib[0]['built']}.")
el = by("elapsed")
if el:
    p(f"\n(bench/run.sh took {int(el[0]['seconds'])} s)")
print("\n".join(out))
