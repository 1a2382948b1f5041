#!/usr/bin/python3
"""Lab 6's plots, drawn from the results tools/bench.py writes.

    /usr/bin/python3 tools/plot.py [--results build/bench/results.json] [--out build/bench]

bench.py draws them itself after a run through write_all(results, out_dir). Each figure is
written twice, as PNG (100 dpi) and SVG:

- cost-same, cost-cross, cost-free: guest instructions per operation (icount, all harts
  summed) against harts, one panel per workload, one line per mechanism, wakeup and
  scheduler, for one placement of client and server.
- speedup: operations per second against harts relative to one hart, measured on the wall
  clock (median, min-max bars) and predicted from the icount costs.
- breakdown: where the instructions of one same-hart null round trip go, message against
  RPC, from tools/profile.py's per-function counts.
- counters: IPIs and context switches per operation at the largest hart count, per
  mechanism and wakeup, under the per-hart scheduler.

Only the experiment's records (factor "experiment") are read; ipcbench's and schedbench's
own runs are not plotted. A figure whose data the results lack (a run with --only, no
profile) is skipped with one line saying which and why, never an exception: a long
benchmark run must not end in a traceback because one figure had nothing to draw.
"""

import argparse
import json
import math
import os
import statistics
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DPI = 100
FULL_RUN_HINT = "run `scons bench` without BENCH"

# The experiment's factor values, in the order they are drawn, with what a reader calls them.
WORKLOADS = {"null": "null round trip", "pairs": "N independent client-server pairs",
             "shared": "N clients, one server",
             "chain": "N clients \u2192 middle server \u2192 leaf server"}
PLACES = {"same": "same hart", "cross": "cross hart", "free": "unpinned"}
MECHS = {"msg": "message", "rpc": "RPC"}
WAKEUPS = {"tick": "tick", "ipi-sbi": "IPI via SBI", "ipi-sswi": "IPI via SSWI"}
SCHEDS = {"global": "global queue", "perhart": "per-hart queues"}
SHORT_MECHS = {"msg": "msg", "rpc": "RPC"}
SHORT_WAKEUPS = {"tick": "tick", "ipi-sbi": "SBI", "ipi-sswi": "SSWI"}
SETTINGS = {"place": PLACES, "sched": SCHEDS, "wakeup": WAKEUPS}   # besides mech and work

# Colour says mechanism and wakeup (blues and greens for messages, warm colours for RPC),
# line style says scheduler: twelve lines stay apart without twelve unrelated colours.
COLOURS = {("msg", "tick"): "#1f77b4", ("msg", "ipi-sbi"): "#17becf",
           ("msg", "ipi-sswi"): "#2ca02c", ("rpc", "tick"): "#d62728",
           ("rpc", "ipi-sbi"): "#ff7f0e", ("rpc", "ipi-sswi"): "#8c564b"}
MECH_COLOURS = {"msg": "#1f77b4", "rpc": "#d62728"}
MECH_MARKERS = {"msg": "o", "rpc": "s"}
SCHED_STYLES = {"global": "-", "perhart": "--"}

# The breakdown's categories, first match wins. profile.py names a PC `<image>:<function>`
# (kernel, or the user program it lies in), `firmware` or `unknown`. User code is every
# program's, even its IPC stubs (ipcbench:ipc_call is user code, not the IPC path). The
# crossing is the assembly of kern/arch/uservec.S and kernelvec.S that saves and restores
# registers (each mechanism's own entry and exit, rpc_trap and ipc_fastpath_exit included)
# and the C that dispatches a trap or system call; the RPC and IPC paths are the C behind
# them. endpoint.c's static helpers (transfer, deliver...) match no rule and count as
# other kernel: a same-hart round trip on the fast path (ipc/fastpath.c) does not reach
# them.
CROSSING = ("trap_entry", "uservec", "syscall_ret", "rpc_trap", "rpc_return_trap",
            "rpc_failed", "ipc_full", "trap_full", "userret", "ipc_fastpath_exit",
            "kernelvec", "kernelvec_return")
CATEGORY_RULES = [
    # (category, names it takes, substrings of the function name it takes)
    ("trap entry/exit", CROSSING, ("trap", "syscall", "user_return")),
    ("RPC path", (), ("rpc_",)),
    ("IPC path", (), ("fastpath", "ipc_", "endpoint", "badge", "message")),
    ("scheduler", (), ("sched", "swtch", "switch", "rq_", "perhart_", "global_", "steal")),
    ("locks", (), ("spin_", "lock_")),
]
PROFILE_MECHS = {"message": "message (two threads)", "rpc": "RPC (migrating thread)"}
CATEGORY_COLOURS = {"user code": "#9467bd", "trap entry/exit": "#1f77b4",
                    "IPC path": "#2ca02c", "RPC path": "#d62728", "scheduler": "#ff7f0e",
                    "locks": "#e377c2", "other kernel": "#7f7f7f", "firmware": "#bcbd22"}


# --- reading the results -------------------------------------------------------------

def experiment_values(results, metric, icount):
    """{(work, mech, sched, wakeup, place, harts): value} of the experiment's records of
    one metric, under icount (1) or on the wall clock (0). A cell measured more than once
    gets its median; a record missing a factor is left out."""
    cells = {}
    for r in results.get("records", []):
        f = r.get("factors", {})
        if (not f.get("experiment") or r.get("metric") != metric
                or f.get("icount") != icount or not isinstance(r.get("value"), (int, float))):
            continue
        key = tuple(f.get(k) for k in ("work", "mech", "sched", "wakeup", "place", "harts"))
        if None not in key:
            cells.setdefault(key, []).append(r["value"])
    return {k: statistics.median(v) for k, v in cells.items()}


def in_order(values, order):
    """The distinct values, in order's order (values order does not know last)."""
    return sorted(set(values), key=lambda v: rank(v, order))


# --- drawing -------------------------------------------------------------------------

def pyplot():
    """matplotlib's pyplot on the Agg backend (files only, no display), or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def grid(n):
    """(rows, columns) for n panels."""
    return (1, n) if n <= 2 else ((n + 1) // 2, 2) if n <= 4 else ((n + 2) // 3, 3)


def panels(plt, n, width, height):
    """A figure of n panels of about width x height inches each, as a flat list of axes,
    with room for a title and a legend below; at least 11 inches wide, so that the legend
    fits beside one panel. The spare panels of the grid are hidden."""
    rows, cols = grid(n)
    fig, axes = plt.subplots(rows, cols, squeeze=False,
                             figsize=(max(11.0, width * cols), height * rows + 1.4))
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def harts_axis(ax, harts, log=True):
    """An x axis of hart counts, ticked at the counts measured."""
    if log:
        ax.set_xscale("log", base=2)
        ax.minorticks_off()
    ax.set_xticks(harts)
    ax.set_xticklabels([str(h) for h in harts])
    ax.set_xlabel("harts")
    ax.grid(True, which="major", alpha=0.3)


def log_y_axis(ax):
    """A log y axis with its ticks written out in full (1,000, not 10^3). Powers of ten
    alone would leave a curve that spans less than a decade one tick or none: such a span
    gets evenly spaced ticks, a wider one ticks at 1, 2 and 5 (or 1 and 3) times the
    powers of ten. Call it once the data are drawn."""
    from matplotlib import ticker
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    decades = math.log10(high / low) if low > 0 else 9
    if decades < 1:
        locator = ticker.MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10])
    else:
        locator = ticker.LogLocator(base=10, subs=(1, 2, 5) if decades < 1.6
                                    else (1, 3) if decades < 2.5 else (1,))
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


def stamp(fig, results):
    """What was measured, in small print at the bottom right: a figure copied into a
    report still says which kernel and QEMU it came from."""
    parts = [results.get("kernel") and "kernel " + results["kernel"], results.get("qemu"),
             results.get("host_cores") and "host: %d cores" % results["host_cores"]]
    fig.text(0.995, 0.005, ", ".join(p for p in parts if p), ha="right", va="bottom",
             fontsize=7, color="#666666")


def save(plt, fig, out_dir, name, bottom=0.0, top=1.0):
    """Lays the figure out (leaving [0, bottom) for a legend below and (top, 1] for a
    note above) and writes name.png and name.svg; returns their paths."""
    fig.tight_layout(rect=(0, max(bottom, 0.02), 1, top))
    paths = []
    for ext in ("png", "svg"):
        path = os.path.join(out_dir, "%s.%s" % (name, ext))
        fig.savefig(path, dpi=DPI)
        paths.append(path)
    plt.close(fig)
    return paths


def skip(why, *names):
    """Says which figures are not drawn and why; returns the paths written: none."""
    print("plot: %s; skipping %s (%s)" % (why, ", ".join(n + ".png" for n in names),
                                          FULL_RUN_HINT))
    return []


# --- cost per operation --------------------------------------------------------------

def write_cost(plt, results, out_dir):
    cost = experiment_values(results, "instructions", 1)
    if not cost:
        return skip("no icount cost cells in results.json", *("cost-" + p for p in PLACES))
    paths = []
    for place in PLACES:
        name = "cost-" + place
        curves = cost_curves(cost, place)
        if curves:
            paths += draw_cost(plt, results, out_dir, name, place, curves)
        else:
            paths += skip("no icount cost cells for place %r past 1 hart in results.json"
                          % place, name)
    return paths


def cost_curves(cost, place):
    """{work: {(mech, sched, wakeup): {harts: instructions}}} for one placement. One hart
    has one placement, "same", which is every placement's first point; a placement with
    nothing past one hart has no curve of its own and gives {}."""
    curves = {}
    for (work, mech, sched, wakeup, p, harts), v in cost.items():
        if p == place and (harts > 1 or place == "same"):
            curves.setdefault(work, {}).setdefault((mech, sched, wakeup), {})[harts] = v
    for work, lines in curves.items():
        for (mech, sched, wakeup), points in lines.items():
            one = cost.get((work, mech, sched, wakeup, "same", 1))
            if one is not None:
                points.setdefault(1, one)
    return curves


def draw_cost(plt, results, out_dir, name, place, curves):
    works = in_order(curves, WORKLOADS)
    fig, axes = panels(plt, len(works), 5.6, 3.0)
    for ax, work in zip(axes, works):
        lines = curves[work]
        for mech, sched, wakeup in sorted(lines, key=config_order):
            points = sorted(lines[(mech, sched, wakeup)].items())
            ax.plot([h for h, _ in points], [v for _, v in points],
                    color=COLOURS.get((mech, wakeup), "black"),
                    linestyle=SCHED_STYLES.get(sched, ":"),
                    marker=MECH_MARKERS.get(mech, "x"), markersize=4, linewidth=1.4)
        log_y_axis(ax)
        harts_axis(ax, sorted({h for pts in lines.values() for h in pts}))
        ax.set_ylabel("guest instructions per operation\n(log scale)")
        ax.set_title("%s: %s" % (work, WORKLOADS.get(work, work)))
    fig.suptitle("Cost per operation, %s placement (icount: guest instructions, all harts "
                 "summed; 1 hart is always the same-hart run)" % PLACES[place], fontsize=11)
    bottom = legend_below(plt, fig, cost_legend_columns(plt, curves))
    stamp(fig, results)
    return save(plt, fig, out_dir, name, bottom=bottom, top=0.95)


def rank(value, order):
    """A sort key: value's place in order, values order does not know after it."""
    return (list(order).index(value), "") if value in order else (len(order), str(value))


def config_order(config):
    mech, sched, wakeup = config
    return rank(mech, MECHS), rank(wakeup, WAKEUPS), rank(sched, SCHEDS)


def cost_legend_columns(plt, curves):
    """One entry per colour (mechanism and wakeup) and one per line style (scheduler),
    instead of one per line: eight entries a reader can match to twelve lines. A column
    per wakeup, a row per mechanism, then the schedulers' column."""
    configs = {c for lines in curves.values() for c in lines}
    columns = []
    for wakeup in in_order((w for _, _, w in configs), WAKEUPS):
        columns.append([plt.Line2D([], [], color=COLOURS.get((mech, wakeup), "black"),
                                   marker=MECH_MARKERS.get(mech, "x"), linewidth=2,
                                   label="%s, wakeup %s" % (MECHS.get(mech, mech),
                                                            WAKEUPS.get(wakeup, wakeup)))
                        for mech in in_order((m for m, _, w in configs if w == wakeup), MECHS)])
    columns.append([plt.Line2D([], [], color="black", linestyle=SCHED_STYLES.get(sched, ":"),
                               label="scheduler: %s" % SCHEDS.get(sched, sched))
                    for sched in in_order((c[1] for c in configs), SCHEDS)])
    return columns


def legend_below(plt, fig, columns):
    """A legend under the panels, its entries in the columns given (the short ones
    padded with blank entries, as matplotlib fills a legend column by column). Returns
    the fraction of the figure's height it takes, for save()."""
    rows = max(len(c) for c in columns)
    blank = plt.Line2D([], [], linestyle="none", label=" ")
    handles = [h for c in columns for h in c + [blank] * (rows - len(c))]
    fig.legend(handles=handles, loc="lower center", ncol=len(columns), fontsize=9,
               frameon=False, bbox_to_anchor=(0.5, 0.02))
    return (0.3 + 0.22 * rows) / fig.get_figheight()


# --- speedup -------------------------------------------------------------------------

def write_speedup(plt, results, out_dir):
    rows = [s for s in results.get("speedup") or []
            if isinstance(s, dict) and s.get("harts") and s.get("measured") is not None]
    if not rows:
        return skip("no speedup runs in results.json", "speedup")
    works = in_order((s.get("work") for s in rows), WORKLOADS)
    fig, axes = panels(plt, len(works), 5.6, 3.0)
    top_harts = max(s["harts"] for s in rows)
    cores = results.get("host_cores")
    # The factors every run shares go in the title; the others tell the lines apart.
    varying = [k for k in SETTINGS if len({s.get(k) for s in rows}) > 1]
    for ax, work in zip(axes, works):
        draw_speedup_panel(ax, [s for s in rows if s.get("work") == work], varying,
                           cores, top_harts)
        ax.set_title("%s: %s" % (work, WORKLOADS.get(work, work)))
    shared = ", ".join(describe(k, rows[0].get(k)) for k in SETTINGS if k not in varying)
    fig.suptitle("Speedup over 1 hart on the wall clock, without icount%s" %
                 (" (%s)" % shared if shared else ""), fontsize=11, y=0.985)
    top = 0.95
    if cores and cores < top_harts:
        fig.text(0.5, 0.945, "host has %d cores: points past %d harts measure the host, not "
                 "the kernel" % (cores, cores), ha="center", va="top", fontsize=10,
                 color="#b22222")
        top = 0.935
    bottom = legend_below(plt, fig, speedup_legend_columns(axes))
    stamp(fig, results)
    return save(plt, fig, out_dir, "speedup", bottom=bottom, top=top)


def describe(factor, value):
    name = SETTINGS[factor].get(value, str(value))
    return "wakeup " + name if factor == "wakeup" else name


def speedup_legend_columns(axes):
    """Every panel's legend entries, each label once, in three columns: measured,
    predicted, the rest."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    columns = [[], [], []]
    for label, handle in seen.items():
        columns[0 if ": measured" in label else 1 if ": predicted" in label else 2].append(handle)
    return [c for c in columns if c]


def draw_speedup_panel(ax, rows, varying, cores, top_harts):
    """One line pair per configuration (the mechanism and the varying factors): measured
    solid with min-max bars, predicted dashed, in the mechanism's colour; a mechanism's
    second configuration gets another marker. Ideal speedup dotted grey, the hart counts
    past the host's cores shaded."""
    configs = sorted({(s.get("mech"),) + tuple(s.get(k) for k in varying) for s in rows},
                     key=lambda c: (rank(c[0], MECHS), str(c[1:])))
    markers = {}
    for config in configs:
        mech = config[0]
        markers[config] = "os^Dv<>p"[sum(c[0] == mech for c in markers) % 8]
        pts = sorted((s for s in rows if (s.get("mech"),) + tuple(s.get(k) for k in varying)
                      == config), key=lambda s: s["harts"])
        draw_speedup_line(ax, pts, ", ".join(
            [MECHS.get(mech, mech)] + [describe(k, v) for k, v in zip(varying, config[1:])]),
            MECH_COLOURS.get(mech, "black"), markers[config])
    ax.plot([1, top_harts], [1, top_harts], color="grey", linestyle=":", label="ideal (y = x)")
    if cores and cores < top_harts:
        ax.axvspan(cores, top_harts, color="grey", alpha=0.12,
                   label="past the host's %d cores" % cores)
    harts_axis(ax, sorted({s["harts"] for s in rows} | {1}), log=False)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("speedup over 1 hart\n(ratio of operations per second)")


def draw_speedup_line(ax, pts, label, colour, marker):
    ax.errorbar([s["harts"] for s in pts], [s["measured"] for s in pts],
                yerr=speedup_spread(pts), color=colour, marker=marker, markersize=5,
                capsize=3, linewidth=1.6, label=label + ": measured (median, min-max)")
    predicted = [(s["harts"], s["predicted"]) for s in pts if s.get("predicted") is not None]
    if predicted:
        ax.plot(*zip(*predicted), color=colour, linestyle="--", marker=marker,
                markerfacecolor="none", markersize=5, linewidth=1.2,
                label=label + ": predicted from the icount costs")


def speedup_spread(pts):
    """Error bars for the speedups from each point's min and max: the same ratio to the
    1-hart median as its median has."""
    lower, upper = [], []
    for s in pts:
        median, lo, hi = s.get("median"), s.get("min"), s.get("max")
        if not median or lo is None or hi is None:
            lower.append(0)
            upper.append(0)
            continue
        scale = s["measured"] / median
        lower.append(max(0.0, (median - lo) * scale))
        upper.append(max(0.0, (hi - median) * scale))
    return [lower, upper]


# --- where a round trip's instructions go --------------------------------------------

def category(key):
    """The breakdown's category of a profile key (see CATEGORY_RULES). A key without an
    image (unknown, or a group profile.py made) is other kernel."""
    image, _, function = key.partition(":")
    if not function:
        return "firmware" if image == "firmware" else "other kernel"
    if image != "kernel":
        return "user code"
    for name, names, substrings in CATEGORY_RULES:
        if function in names or any(s in function for s in substrings):
            return name
    return "other kernel"


def breakdown(functions):
    """{category: instructions} of one mechanism's {function: instructions}."""
    totals = {}
    for key, n in functions.items():
        if isinstance(n, (int, float)) and n > 0:
            cat = category(str(key))
            totals[cat] = totals.get(cat, 0) + n
    return totals


def write_breakdown(plt, results, out_dir):
    profile = results.get("profile") or {}
    mechs = [m for m in in_order(profile, PROFILE_MECHS)
             if isinstance(profile[m], dict) and breakdown(profile[m])]
    if not mechs:
        return skip("no profile in results.json", "breakdown")
    fig, ax = plt.subplots(figsize=(8, 7))
    draw_stacked_bars(ax, [breakdown(profile[m]) for m in mechs])
    ax.set_xticks(range(len(mechs)))
    ax.set_xticklabels([PROFILE_MECHS.get(m, m) for m in mechs])
    ax.set_xlim(-0.6, len(mechs) + 0.5)    # room on the right for the legend
    ax.set_ylabel("guest instructions per round trip")
    ax.set_xlabel("mechanism")
    ax.set_title("Where one same-hart null round trip's instructions go\n"
                 "(tools/profile.py, per-function counts grouped by name)", fontsize=11)
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=9)  # as stacked
    ax.grid(True, axis="y", alpha=0.3)
    stamp(fig, results)
    return save(plt, fig, out_dir, "breakdown")


def draw_stacked_bars(ax, bars):
    """One bar per {category: instructions}, the categories stacked in CATEGORY_COLOURS'
    order; a segment tall enough for its label carries it, and each bar its total."""
    tallest = max(sum(b.values()) for b in bars)
    base = [0.0] * len(bars)
    for cat, colour in CATEGORY_COLOURS.items():
        heights = [b.get(cat, 0) for b in bars]
        if not any(heights):
            continue
        ax.bar(range(len(bars)), heights, bottom=base, width=0.55, color=colour, label=cat,
               edgecolor="white", linewidth=0.8)
        for i, h in enumerate(heights):
            if h >= 0.028 * tallest:
                ax.text(i, base[i] + h / 2, "%s: %s" % (cat, f"{h:,.0f}"), ha="center",
                        va="center", fontsize=8.5, color="white")
        base = [b + h for b, h in zip(base, heights)]
    for i, total in enumerate(base):
        ax.text(i, total + 0.01 * tallest, "%s in all" % f"{total:,.0f}", ha="center",
                va="bottom", fontsize=10, fontweight="bold")
    ax.set_ylim(0, tallest * 1.08)


# --- IPIs and switches ---------------------------------------------------------------

COUNTER_PLACES = ("same", "cross")
COUNTER_METRICS = {"ipis": ("IPIs", "#1f77b4"), "switches": ("context switches", "#ff7f0e")}


def write_counters(plt, results, out_dir):
    values = {m: experiment_values(results, m, 1) for m in COUNTER_METRICS}
    cells = {k for v in values.values() for k in v
             if k[2] == "perhart" and k[4] in COUNTER_PLACES}
    if not cells:
        return skip("no IPI or switch counts under sched=perhart for place same or cross "
                    "in results.json", "counters")
    places = in_order((k[4] for k in cells), COUNTER_PLACES)
    works = in_order((k[0] for k in cells), WORKLOADS)
    fig, axes = plt.subplots(len(places), len(works), squeeze=False, sharey="row",
                             figsize=(0.8 + 2.7 * len(works), 1.0 + 3.2 * len(places)))
    for row, place in enumerate(places):
        for col, work in enumerate(works):
            mine = {k for k in cells if k[0] == work and k[4] == place}
            if mine:
                draw_counter_panel(axes[row][col], values, mine, work, place)
            else:
                axes[row][col].set_visible(False)
        axes[row][0].set_ylabel("events per operation\n(%s)" % PLACES[place])
    fig.suptitle("IPIs and context switches per operation at the most harts measured "
                 "(icount, per-hart scheduler)\nper mechanism and wakeup: the tick, or an "
                 "IPI sent through SBI or SSWI", fontsize=11)
    bottom = legend_below(plt, fig, [[plt.Rectangle((0, 0), 1, 1, color=c,
                                                    label="%s per operation" % name)]
                                     for name, c in COUNTER_METRICS.values()])
    stamp(fig, results)
    return save(plt, fig, out_dir, "counters", bottom=bottom, top=0.95)


def draw_counter_panel(ax, values, cells, work, place):
    """Grouped bars at the panel's largest hart count: one group per mechanism and
    wakeup, one bar per counter (a count not measured draws as 0)."""
    harts = max(k[5] for k in cells)
    configs = sorted({(k[1], k[3]) for k in cells if k[5] == harts},
                     key=lambda mw: (rank(mw[0], MECHS), rank(mw[1], WAKEUPS)))
    width = 0.8 / len(COUNTER_METRICS)
    for i, (metric, (name, colour)) in enumerate(COUNTER_METRICS.items()):
        heights = [values[metric].get((work, mech, "perhart", wakeup, place, harts), 0)
                   for mech, wakeup in configs]
        offset = (i - (len(COUNTER_METRICS) - 1) / 2) * width
        ax.bar([j + offset for j in range(len(configs))], heights, width=width, color=colour)
    ax.set_xticks(range(len(configs)))
    ax.set_xticklabels(["%s\n%s" % (SHORT_MECHS.get(m, m), SHORT_WAKEUPS.get(w, w))
                        for m, w in configs], fontsize=8)
    ax.set_title("%s, %s, %d hart%s" % (work, PLACES.get(place, place), harts,
                                        "" if harts == 1 else "s"), fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)


# --- all of them ---------------------------------------------------------------------

def write_all(results, out_dir):
    """Draws every figure results has the data for into out_dir; returns the paths
    written (PNG and SVG of each). Prints one line per figure it skips."""
    plt = pyplot()
    if plt is None:
        print("plot: matplotlib not found (apt-get install python3-matplotlib); "
              "skipping every plot")
        return []
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for write in (write_cost, write_speedup, write_breakdown, write_counters):
        paths += write(plt, results, out_dir)
    return paths


def main(argv=None):
    default_out = os.path.join(REPO_ROOT, "build", "bench")
    parser = argparse.ArgumentParser(prog="tools/plot.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", default=os.path.join(default_out, "results.json"),
                        help="tools/bench.py's results (default build/bench/results.json)")
    parser.add_argument("--out", default=default_out,
                        help="where the plots go (default build/bench)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with open(args.results, encoding="utf-8") as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        print("plot: cannot read %s: %s (run `scons bench` first)" % (args.results, e),
              file=sys.stderr)
        return 1
    paths = write_all(results, args.out)
    for path in paths:
        print("plot: wrote %s" % os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
