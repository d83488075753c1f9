"""``aikg report``: what the search did, per kernel, as markdown and as one self-contained HTML page with plots.

Everything comes from the search history beside the kernel cache (``<cache_dir>/history``: every judged attempt and
every finished run) and from the cache itself (accepted kernels, also those imported from a bundle with no history
here). Nothing is executed: the history holds candidate sources as text and the report never looks at them.

The HTML page embeds its plots as base64 PNG data URIs, so it can be mailed or attached to a CI run as one file;
the PNGs are also written beside it for the markdown page, which links them.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import html
import logging
import math
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .options import DEFAULT_MARGIN
from .task import op_names
from .search.history import LoggedAttempt, ProposerStatus, SearchHistory, TaskRecord, TaskRun, describe_status

log = logging.getLogger(__name__)

ACCEPTED = "accepted"  # the verdict column's name for accepted attempts (they have no rule)
# One colour per meaning, shared by every plot (the suite plot in benchmarks/ uses matplotlib's defaults).
GREEN, GREY, ORANGE = "#2a9d8f", "#adb5bd", "#e76f51"


class ReportError(Exception):
    """The report cannot be written: no cache directory, or matplotlib missing. One line for people."""


@dataclasses.dataclass(frozen=True)
class KernelRow:
    """One kernel as the report shows it: what was tried on it, over every run, and what came of it."""

    record: TaskRecord
    attempts: tuple[LoggedAttempt, ...]  # in the order the verdicts came, all runs
    runs: int  # runs begun on it that left a trace (a finished run, or attempts of an interrupted one)
    interrupted: int  # runs with attempts but no finished-run record (Ctrl-C, a crash)
    seconds: float
    tokens: int
    cached_speedup: float | None  # the speedup of the kernel the cache holds for it, if any
    last_reason: str  # the pipeline's sentence for the last finished run ("" if none finished)
    in_history: bool = True  # False: only the cache knows it (imported, or tuned before the history existed)
    proposer_status: tuple[ProposerStatus, ...] = ()  # which proposers could work on it in the last finished run

    @property
    def key(self) -> str:
        return self.record.key

    @property
    def label(self) -> str:
        """Short enough for a plot's axis."""
        name = self.record.name or self.record.dsl
        return f"{self.key[:8]} {name[:28]}{'...' if len(name) > 28 else ''}"

    @property
    def verdicts(self) -> Counter[str]:
        return Counter(a.attempt.report.rule or ACCEPTED for a in self.attempts)

    @property
    def best_accepted(self) -> float | None:
        found = [a.attempt.report.speedup for a in self.attempts if a.attempt.report.accepted]
        found += [self.cached_speedup] if self.cached_speedup is not None else []
        return max((s for s in found if s is not None), default=None)

    @property
    def best_rejected_correct(self) -> float | None:
        """The best speedup of a candidate that passed every correctness trial but was not fast enough."""
        return max((a.attempt.report.speedup for a in self.attempts
                    if a.attempt.report.rule == "not-faster" and a.attempt.report.speedup is not None), default=None)

    @property
    def device(self) -> str:
        named = [a.attempt.report.device for a in self.attempts if a.attempt.report.device]
        return named[-1] if named else self.record.device_type

    @property
    def proposers(self) -> Counter[str]:
        return Counter(a.attempt.candidate.proposer for a in self.attempts)

    def outcome(self) -> str:
        """"1.234x (llm)" for an accepted kernel, else "Inductor kept" and the main reason."""
        best = self.best_accepted
        if best is not None:
            who = [a.attempt.candidate.proposer for a in self.attempts
                   if a.attempt.report.accepted and a.attempt.report.speedup == best]
            return f"{best:.3f}x" + (f" ({who[0]})" if who else "")
        return f"Inductor kept: {self.kept_reason()}"

    def kept_reason(self) -> str:
        rejected = [a.attempt.report for a in self.attempts]
        if not rejected:
            # No candidate at all: the pipeline's own sentence says why (no proposer for the DSL, no LLM, ...).
            return _strip_kept(self.last_reason) or "no candidate was tried"
        rule, count = Counter(r.rule or ACCEPTED for r in rejected).most_common(1)[0]
        text = f"{count} of {len(rejected)} rejected as {rule}"
        best = self.best_rejected_correct
        return text + (f"; best correct candidate {best:.3f}x" if best is not None else "; none was correct")


@dataclasses.dataclass(frozen=True)
class Summary:
    kernels: int
    accepted: int
    geomean_accepted: float | None  # over accepted kernels only
    geomean_all: float | None  # over every kernel, 1.0 for those where Inductor's kernel stays
    candidates: int
    tokens: int
    seconds: float

    @classmethod
    def of(cls, rows: Sequence[KernelRow]) -> Summary:
        speedups = [r.best_accepted for r in rows]
        accepted = [s for s in speedups if s is not None]
        return cls(len(rows), len(accepted), _geomean(accepted), _geomean([s or 1.0 for s in speedups]),
                   sum(len(r.attempts) for r in rows), sum(r.tokens for r in rows), sum(r.seconds for r in rows))

    def line(self) -> str:
        if self.geomean_accepted is None:
            outcome = "none accepted (Inductor's kernels stay)"
        else:
            outcome = f"{self.accepted} accepted; geomean speedup {self.geomean_accepted:.3f}x over accepted " \
                      f"kernels, {self.geomean_all:.3f}x over all (1.0 where Inductor's kernel stays)"
        return (f"{self.kernels} kernel(s), {outcome}; {self.candidates} candidate(s) judged, {self.tokens:,} LLM "
                f"tokens, {_duration(self.seconds)} of search (summed over kernels)")


@dataclasses.dataclass(frozen=True)
class ReportPaths:
    directory: Path
    markdown: Path
    html: Path
    plots: dict[str, Path]  # plot name -> PNG file; empty when nothing was tuned
    summary: Summary


# ------------------------------------------------------------------------------------------------- collecting


def collect(cache_dir: Path | str) -> list[KernelRow]:
    """Every kernel the history or the cache in ``cache_dir`` knows, in the order they were first tuned."""
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise ReportError(f"no kernel cache at {cache_dir} (give --cache-dir, AIKG_CACHE_DIR or the cache_dir "
                          "option; aikg tune writes one)")
    cached = _cached_speedups(cache_dir)
    rows = []
    # Opening a diskcache creates its folder: a cache with no history stays without one.
    if (cache_dir / "history").is_dir():
        history = SearchHistory.beside(cache_dir, read_only=True)
        try:
            rows = [_row(history, record, cached.pop(record.key, None)) for record in history.tasks()]
        finally:
            history.close()
    rows.sort(key=_first_seen)
    rows += [_cache_only_row(entry, speedup) for entry, speedup in cached.values()]
    return rows


def _row(history: SearchHistory, record: TaskRecord, cached: tuple[Any, float | None] | None) -> KernelRow:
    logged = tuple(history.logged(record.key))
    finished = history.runs(record.key)
    unfinished = _unfinished_runs(logged, finished)
    seconds = sum(r.elapsed_s for r in finished) + sum(_span(attempts) for attempts in unfinished.values())
    tokens = sum(r.tokens for r in finished) + sum(_tokens_seen(attempts) for attempts in unfinished.values())
    return KernelRow(record, logged, len(finished) + len(unfinished), len(unfinished), seconds, tokens,
                     None if cached is None else cached[1], finished[-1].reason if finished else "",
                     proposer_status=finished[-1].proposer_status if finished else ())


def _unfinished_runs(logged: Sequence[LoggedAttempt], finished: Sequence[TaskRun]) -> dict[int, list[LoggedAttempt]]:
    """Attempts of runs that never wrote a finished-run record, by run number.

    Finished records carry their run number; records written before runs were numbered are matched by time: an
    attempt belongs to such a run when its verdict came inside that run's wall-clock window."""
    inside = {r.run for r in finished if r.run >= 0}
    # A run's window opens before its first verdict and closes after its last (both clocks are read together in
    # the pipeline); the slack covers wall-clock against monotonic-clock drift, far less than a process start.
    slack = 0.25
    inside |= {a.run for a in logged for r in finished
               if r.run < 0 and r.started - slack <= a.at <= r.started + r.elapsed_s + slack}
    unfinished: dict[int, list[LoggedAttempt]] = {}
    for attempt in logged:
        if attempt.run not in inside:
            unfinished.setdefault(attempt.run, []).append(attempt)
    return unfinished


def _span(attempts: Sequence[LoggedAttempt]) -> float:
    """A lower bound of an interrupted run's time: from its first verdict to its last, plus the first's own time."""
    times = [a.at for a in attempts]
    return max(times) - min(times) + attempts[0].attempt.report.elapsed_s


def _tokens_seen(attempts: Sequence[LoggedAttempt]) -> int:
    """An interrupted run's tokens, as far as its LLM candidates noted them (``task_tokens``: running total)."""
    return max((int(a.attempt.candidate.notes.get("task_tokens", 0) or 0) for a in attempts), default=0)


def _cached_speedups(cache_dir: Path) -> dict[str, tuple[Any, float | None]]:
    if not (cache_dir / "kernels").is_dir():
        return {}
    from .kernel_cache import CacheUnavailableError, KernelCache

    try:
        cache = KernelCache(cache_dir)
    except CacheUnavailableError as err:
        log.warning("aikg: report without the cache's accepted kernels: %s", err)
        return {}
    try:
        return {entry.key: (entry, entry.verification.speedup) for entry in cache.entries()}
    finally:
        cache.close()


def _cache_only_row(entry: Any, speedup: float | None) -> KernelRow:
    record = TaskRecord(entry.key, "", entry.dsl, entry.device_type, tuple(entry.origins))
    return KernelRow(record, (), 0, 0, 0.0, 0, speedup, "", in_history=False)


def _first_seen(row: KernelRow) -> tuple[float, str]:
    times = [a.at for a in row.attempts]
    return (min(times) if times else math.inf, row.key)


# ------------------------------------------------------------------------------------------------- writing


def write_report(cache_dir: Path | str, out_dir: Path | str, title: str | None = None) -> ReportPaths:
    """Write ``report.md``, ``report.html`` (self-contained) and the PNG plots for the cache in ``cache_dir`` into
    ``out_dir``. A cache with nothing tuned gives a short report that says so."""
    cache_dir, out_dir = Path(cache_dir), Path(out_dir)
    rows = collect(cache_dir)
    figure = _matplotlib()  # checked before anything is written, so a missing dependency leaves no half report
    out_dir.mkdir(parents=True, exist_ok=True)
    title = title or f"aikg report: {cache_dir}"
    # Plots of nothing would say nothing: with no candidate judged, the table's reasons are the report.
    plots = _write_plots(rows, _margin(rows), out_dir, figure) if any(r.attempts for r in rows) else {}
    for stale in set(PLOT_TITLES) - set(plots):  # an earlier report's plots would contradict this one
        (out_dir / f"{stale}.png").unlink(missing_ok=True)
    summary = Summary.of(rows)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    markdown = out_dir / "report.md"
    markdown.write_text(_markdown(title, stamp, cache_dir, rows, summary, plots))
    page = out_dir / "report.html"
    page.write_text(_html(title, stamp, cache_dir, rows, summary, plots))
    log.info("aikg: report on %d kernel(s) written to %s", len(rows), out_dir)
    return ReportPaths(out_dir, markdown, page, plots, summary)


def _matplotlib() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportError("aikg report needs matplotlib for its plots: pip install matplotlib") from None
    return Figure


def _margin(rows: Sequence[KernelRow]) -> float:
    """The acceptance margin the verdicts were given under (the most common one)."""
    margins = Counter(a.attempt.report.margin for r in rows for a in r.attempts)
    return margins.most_common(1)[0][0] if margins else DEFAULT_MARGIN


NOTHING_TUNED = "Nothing was tuned with this cache yet: run `aikg tune FILE|DIR --cache-dir {cache_dir}` first."

COLUMNS = ("key", "kernel (fused ATen ops)", "dsl", "device", "candidates", "runs", "verdicts", "best speedup",
           "time", "tokens", "proposers (last run)")

NOTHING_JUDGED = "No candidate was judged on any kernel, so there is nothing to plot. Why, per kernel: the best " \
                 "speedup and proposers columns above."


def _cells(row: KernelRow) -> list[str]:
    ops = op_names(row.record.origins)
    kernel = f"{row.record.name} ({ops})" if row.record.name else ops
    proposers = ", ".join(f"{name} {n}" for name, n in row.proposers.most_common())
    candidates = f"{len(row.attempts)}" + (f" ({proposers})" if proposers else "")
    runs = f"{row.runs}" + (f" ({row.interrupted} interrupted)" if row.interrupted else "")
    verdicts = ", ".join(f"{n} {rule}" for rule, n in _rule_order(row.verdicts)) or "-"
    if not row.in_history:
        candidates, runs, verdicts = "-", "-", "in the cache only (no search history here)"
    return [row.key[:12], kernel, row.record.dsl, row.device, candidates, runs, verdicts, row.outcome(),
            _duration(row.seconds), f"{row.tokens:,}", _describe_status(row.proposer_status)]


def _describe_status(status: Sequence[ProposerStatus]) -> str:
    if not status:
        return "-"  # no finished run, or one recorded before proposers' availability was
    return describe_status(status)


def _rule_order(counts: Counter[str]) -> list[tuple[str, int]]:
    """Accepted first, then the rules by how often they were given."""
    return sorted(counts.items(), key=lambda kv: (kv[0] != ACCEPTED, -kv[1], kv[0]))


def _examples(rows: Sequence[KernelRow]) -> list[tuple[str, str, int, str]]:
    """Per kernel and rejection rule: how many, and the latest reason given (what a user reads to see why)."""
    found = []
    for row in rows:
        latest: dict[str, str] = {}
        for logged in row.attempts:
            if not logged.attempt.report.accepted:
                latest[logged.attempt.report.rule or "?"] = logged.attempt.report.reason
        for rule, n in _rule_order(row.verdicts):
            if rule in latest:
                found.append((row.key[:12], rule, n, _shorten(latest[rule], 240)))
    return found


def _markdown(title: str, stamp: str, cache_dir: Path, rows: Sequence[KernelRow], summary: Summary,
              plots: dict[str, Path]) -> str:
    lines = [f"# {title}", "", f"Cache `{cache_dir}`, written {stamp}.", ""]
    if not rows:
        return "\n".join([*lines, NOTHING_TUNED.format(cache_dir=cache_dir), ""])
    lines += [f"**{summary.line()}**", "", _md_table(COLUMNS, [_cells(r) for r in rows]), ""]
    if not plots:
        lines += [NOTHING_JUDGED, ""]
    for name, path in plots.items():
        lines += [f"![{PLOT_TITLES[name]}]({path.name})", ""]
    examples = _examples(rows)
    if examples:
        lines += ["## Why candidates were rejected", "", "The latest reason given for each rule.", "",
                  _md_table(("key", "rule", "count", "latest reason"), [[k, r, str(n), t] for k, r, n, t in examples]),
                  ""]
    return "\n".join(lines)


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #ccc;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f3f3f3}td.kept{color:#666}td.accepted{color:#1d6f65;
font-weight:bold}img{max-width:100%;margin:1em 0;display:block}.summary{font-size:1.05em;font-weight:bold}"""


def _html(title: str, stamp: str, cache_dir: Path, rows: Sequence[KernelRow], summary: Summary,
          plots: dict[str, Path]) -> str:
    esc = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             f"<style>{STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>",
             f"<p>Cache <code>{esc(str(cache_dir))}</code>, written {esc(stamp)}.</p>"]
    if not rows:
        parts.append(f"<p>{esc(NOTHING_TUNED.format(cache_dir=cache_dir)).replace('`', '')}</p></body></html>")
        return "".join(parts)
    parts += [f"<p class='summary'>{esc(summary.line())}</p>", "<table><tr>"]
    parts += [f"<th>{esc(c)}</th>" for c in COLUMNS] + ["</tr>"]
    for row in rows:
        cells = _cells(row)
        klass = "accepted" if row.best_accepted is not None else "kept"
        parts.append(f"<tr data-key='{esc(row.key)}'>" + "".join(
            f"<td class='{klass}'>{esc(c)}</td>" if i == COLUMNS.index("best speedup") else f"<td>{esc(c)}</td>"
            for i, c in enumerate(cells)) + "</tr>")
    parts.append("</table>")
    if not plots:
        parts.append(f"<p>{esc(NOTHING_JUDGED)}</p>")
    for name, path in plots.items():
        data = base64.b64encode(path.read_bytes()).decode()
        parts.append(f"<h2>{esc(PLOT_TITLES[name])}</h2><img alt='{esc(PLOT_TITLES[name])}' "
                     f"src='data:image/png;base64,{data}'>")
    examples = _examples(rows)
    if examples:
        parts.append("<h2>Why candidates were rejected</h2><p>The latest reason given for each rule.</p><table>"
                     "<tr><th>key</th><th>rule</th><th>count</th><th>latest reason</th></tr>")
        parts += [f"<tr><td>{esc(k)}</td><td>{esc(r)}</td><td>{n}</td><td>{esc(t)}</td></tr>"
                  for k, r, n, t in examples]
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------------- plots

PLOT_TITLES = {
    "speedup": "Speedup per kernel over Inductor's kernel",
    "spending": "Time and LLM tokens spent per kernel",
    "verdicts": "Verdicts per kernel, by rule",
    "search_curve": "Search curve: best verified speedup against candidates judged",
}


def _write_plots(rows: Sequence[KernelRow], margin: float, out_dir: Path,
                 figure: Callable[..., Any]) -> dict[str, Path]:
    # matplotlib.figure.Figure draws with the Agg canvas on savefig and never touches pyplot's global state or
    # backend: safe to call from a notebook or a process that already uses another backend.
    painters = {"speedup": _plot_speedup, "spending": _plot_spending, "verdicts": _plot_verdicts,
                "search_curve": _plot_search_curve}
    plots = {}
    for name, paint in painters.items():
        height = max(3.2, 0.45 * len(rows) + 1.5)
        fig = figure(figsize=(10, height) if name != "search_curve" else (10, 5))
        paint(fig, rows, margin)
        fig.suptitle(PLOT_TITLES[name])
        fig.tight_layout()
        path = out_dir / f"{name}.png"
        fig.savefig(path, dpi=110, format="png", bbox_inches="tight")
        plots[name] = path
    return plots


def _plot_speedup(fig: Any, rows: Sequence[KernelRow], margin: float) -> None:
    ax = fig.add_subplot()
    y = range(len(rows))
    # Bars grow from 1.0 (Inductor's kernel), left for slower, right for faster: speedups cluster near 1, where
    # bars from 0 would all look the same length.
    accepted = [r.best_accepted for r in rows]
    correct = [None if r.best_accepted is not None else r.best_rejected_correct for r in rows]
    ax.barh(y, [s - 1.0 if s else 0.0 for s in accepted], left=1.0, color=GREEN, label="accepted (best)")
    ax.barh(y, [s - 1.0 if s else 0.0 for s in correct], left=1.0, color=GREY,
            label="best correct, rejected as not faster")
    for i, row in enumerate(rows):
        if accepted[i] is None and correct[i] is None:
            text = "no correct candidate" if row.attempts else "no candidate tried"
            ax.text(0.02, i, f"{text}: Inductor kept", va="center", fontsize=8, color="#555",
                    transform=ax.get_yaxis_transform())
    ax.axvline(1.0, color="black", linewidth=0.8, label="Inductor (1.0)")
    ax.axvline(1.0 + margin, color=ORANGE, linewidth=0.8, linestyle="--", label=f"acceptance margin ({1 + margin:g})")
    ax.set_yticks(list(y), [r.label for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("speedup over Inductor's kernel (baseline time / candidate time)")
    ax.legend(fontsize=8, loc="lower right")


def _plot_spending(fig: Any, rows: Sequence[KernelRow], margin: float) -> None:
    left, right = fig.subplots(1, 2, sharey=True)
    y = list(range(len(rows)))
    left.barh(y, [r.seconds for r in rows], color=GREEN)
    left.set_xlabel("search wall time (s), all runs")
    right.barh(y, [r.tokens for r in rows], color=ORANGE)
    right.set_xlabel("LLM tokens, all runs")
    left.set_yticks(y, [r.label for r in rows], fontsize=8)
    left.invert_yaxis()
    if not any(r.tokens for r in rows):
        right.text(0.5, 0.5, "no LLM tokens spent", ha="center", va="center", transform=right.transAxes, color="#555")


def _plot_verdicts(fig: Any, rows: Sequence[KernelRow], margin: float) -> None:
    ax = fig.add_subplot()
    total: Counter[str] = Counter()
    for row in rows:
        total.update(row.verdicts)
    rules = [rule for rule, _ in _rule_order(total)]
    colours = _rule_colours(rules)
    y = list(range(len(rows)))
    left = [0] * len(rows)
    for rule in rules:
        counts = [r.verdicts.get(rule, 0) for r in rows]
        ax.barh(y, counts, left=left, color=colours[rule], label=f"{rule} ({total[rule]})")
        left = [a + b for a, b in zip(left, counts)]
    ax.set_yticks(y, [r.label for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("candidates judged, all runs")
    if rules:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.text(0.5, 0.5, "no candidate was judged", ha="center", va="center", transform=ax.transAxes, color="#555")


def _rule_colours(rules: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    fixed = {ACCEPTED: GREEN, "not-faster": GREY, "screened-out": "#dee2e6"}
    # tab10 without its green and grey, which would read as "accepted" or "not faster"
    palette = [c for i, c in enumerate(colormaps["tab10"].colors) if i not in (2, 7)]
    others = [r for r in rules if r not in fixed]
    return {**{r: palette[i % len(palette)] for i, r in enumerate(others)}, **fixed}


def _plot_search_curve(fig: Any, rows: Sequence[KernelRow], margin: float) -> None:
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    ax = fig.add_subplot()
    palette = colormaps["tab10"].colors
    drawn = 0
    for i, row in enumerate(rows):
        colour = palette[i % len(palette)]
        xs, best = _best_so_far(row.attempts)
        if not xs:
            continue
        drawn += 1
        ax.step(xs, best, where="post", color=colour, label=row.label)
        ax.plot(xs[-1:], best[-1:], marker="o", color=colour)  # visible even for a single correct candidate
        correct = [(n, a.attempt.report.speedup) for n, a in enumerate(row.attempts, 1) if _correct(a)]
        ax.scatter([n for n, _ in correct], [s for _, s in correct], color=colour, s=10, alpha=0.35)
        for n in _run_boundaries(row.attempts):
            ax.axvline(n + 0.5, color=colour, linestyle=":", linewidth=1.0)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.axhline(1.0 + margin, color=ORANGE, linewidth=0.8, linestyle="--")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("candidates judged on the kernel, all runs (dotted: a new run began)")
    ax.set_ylabel("best verified speedup so far")
    if drawn:
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    else:
        ax.text(0.5, 0.5, "no candidate passed the correctness checks yet", ha="center", va="center",
                transform=ax.transAxes, color="#555")


def _correct(logged: LoggedAttempt) -> bool:
    return logged.attempt.correct and logged.attempt.report.speedup is not None


def _best_so_far(attempts: Sequence[LoggedAttempt]) -> tuple[list[int], list[float]]:
    """From the first correct candidate on: the best verified speedup after each candidate (1-based index)."""
    xs, best, current = [], [], None
    for n, logged in enumerate(attempts, 1):
        if _correct(logged):
            current = max(current or 0.0, logged.attempt.report.speedup)
        if current is not None:
            xs.append(n)
            best.append(current)
    return xs, best


def _run_boundaries(attempts: Sequence[LoggedAttempt]) -> list[int]:
    """Indices (1-based) of the last candidate before each change of run."""
    return [n for n in range(1, len(attempts)) if attempts[n].run != attempts[n - 1].run]


# ------------------------------------------------------------------------------------------------- formatting


def _strip_kept(reason: str) -> str:
    return reason.removesuffix("; Inductor's kernel kept")


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def _geomean(values: Sequence[float]) -> float | None:
    values = [v for v in values if v > 0]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None
