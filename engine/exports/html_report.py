"""One self-contained HTML file per run (or per comparison of 2–4 runs), to send to someone.

Everything is inline, so it opens from a mail attachment with no network: the CSS, the few
lines of JavaScript that sort, filter and page the request table, and the pictures as SVG
(the report card of ``engine.report_card``, the charts of ``engine.report_charts``).  The
file never asks for anything: no ``src``/``href`` to another address, no fonts, no CDN.

Its size is bounded whatever the run's length: the card and the charts are fixed grids, and
the request table holds at most ``MAX_TABLE_ROWS`` rows (failures first, then the slowest, each
up to a fifth of the table, then an even sample of the rest, said so above the table; the CSV
export holds every request).  The
rows are one JSON array the script renders a page at a time, so a browser never lays out
thousands of table rows at once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..charts import common_histograms, time_series
from ..findings.claims import at_defaults, check_all, claims_for
from ..record import RunRecord
from ..report_card import key_stats, run_state, settings_line, timeline_picture_svg
from ..report_charts import histogram_chart, series_chart

MAX_TABLE_ROWS = 5000
FAILED_SHARE = 0.2  # failures kept first, up to this share of the table
SLOW_SHARE = 0.2  # then the slowest, up to this share
TABLE_COLUMNS = (
    ("id", "id"),
    ("demo", "demo"),
    ("status", "status"),
    ("error", "error / exception"),
    ("latency_ms", "latency ms"),
    ("server_ms", "server ms"),
    ("sent_ms", "sent at ms"),
    ("done_ms", "done at ms"),
    ("sql", "SQL queries"),
    ("threads", "threads"),
)

_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1d2330;margin:24px auto;max-width:1640px;
padding:0 16px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.muted{color:#5b6577}.card svg{width:100%;height:auto;border:1px solid #d5d9e0}
.state{color:#d00000;font-weight:bold}.verdict{font-size:20px;margin:10px 0 14px}
.tiles{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:14px}
.tile{background:#f2f4f7;border-radius:6px;padding:8px 14px;min-width:130px}
.tile .value{font-size:22px;font-weight:bold}.tile .alert{color:#d00000}
.findings li{margin:6px 0}.sev{display:inline-block;min-width:64px;font-size:12px;padding:1px 6px;border-radius:4px;
background:#eef1f5;margin-right:6px;text-align:center}.sev.warning,.sev.problem{background:#fde2dc}
.sev.notice{background:#fff3cd}
.evidence{font-size:12px;color:#5b6577;margin:2px 0 0 76px}
.checks li{list-style:none;margin:4px 0}.ok{color:#2e7d32}.bad{color:#c62828}
.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #e3e6eb;background:#fff}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{padding:3px 8px;border-bottom:1px solid #eceef2;text-align:right}
th{background:#f2f4f7;cursor:pointer;user-select:none;position:sticky;top:0}td.t,th.t{text-align:left}
tr.failed td{background:#fdecea}.tools{margin:8px 0;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.stats td,.stats th{text-align:left}.better{color:#2e7d32}.worse{color:#c62828}
.sides{display:flex;gap:16px;flex-wrap:wrap}
.side{flex:1 1 360px;border:1px solid #e3e6eb;border-radius:6px;padding:8px 12px}
.side h3{margin:4px 0}.side .verdict{font-size:15px}
"""

_SCRIPT = """
(function(){
  var data=JSON.parse(document.getElementById('rows').textContent);
  var cols=data.columns, rows=data.rows, page=0, per=100, key=0, dir=1, shown=rows;
  var body=document.getElementById('req-body'), info=document.getElementById('req-info');
  var filter=document.getElementById('req-filter'), failed=document.getElementById('req-failed');
  function apply(){
    var q=filter.value.toLowerCase(), f=failed.checked;
    shown=rows.filter(function(r){
      if(f && !r[cols.length]) return false;
      if(!q) return true;
      return r.slice(0,cols.length).join(' ').toLowerCase().indexOf(q)>=0;
    });
    shown.sort(function(a,b){var x=a[key],y=b[key];
      if(x===y) return 0; if(x===''||x===null) return 1; if(y===''||y===null) return -1;
      return (x<y?-1:1)*dir;});
    page=Math.min(page,Math.max(0,Math.ceil(shown.length/per)-1)); draw();
  }
  function draw(){
    var out=[], start=page*per, end=Math.min(shown.length,start+per);
    for(var i=start;i<end;i++){var r=shown[i];
      var tds=r.slice(0,cols.length).map(function(v,j){
        var td=document.createElement('td'); td.textContent=(v===null?'':v);
        if(j===1||j===3) td.className='t'; return td.outerHTML;});
      out.push('<tr'+(r[cols.length]?' class="failed"':'')+'>'+tds.join('')+'</tr>');}
    body.innerHTML=out.join('');
    info.textContent=shown.length?('rows '+(start+1)+'–'+end+' of '+shown.length):'no rows match';
  }
  document.querySelectorAll('#req-table th').forEach(function(th,i){
    th.addEventListener('click',function(){dir=(key===i)?-dir:1;key=i;apply();});});
  filter.addEventListener('input',function(){page=0;apply();});
  failed.addEventListener('change',function(){page=0;apply();});
  document.getElementById('req-prev').addEventListener('click',function(){if(page>0){page--;draw();}});
  document.getElementById('req-next').addEventListener('click',function(){
    if((page+1)*per<shown.length){page++;draw();}});
  apply();
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _inline_svg(svg: str) -> str:
    """An SVG document as an element of the HTML (the HTML parser needs no namespace)."""
    return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)


def _ms(origin: int, ns: int | None) -> float | None:
    return None if ns is None else round((ns - origin) / 1e6, 3)


def table_rows(record: RunRecord, limit: int = MAX_TABLE_ROWS) -> tuple[list[list[Any]], str]:
    """At most ``limit`` request rows (as ``TABLE_COLUMNS`` plus a trailing failed flag) and a
    sentence saying which rows they are when not all are there."""
    clients = list(record.client)
    chosen = clients
    note = ""
    if len(clients) > limit:
        most_failed, most_slow = int(limit * FAILED_SHARE), int(limit * SLOW_SHARE)
        failed = [c for c in clients if not c.ok and c.done_ns is not None][:most_failed]
        taken = {c.id for c in failed}
        done = [c for c in clients if c.done_ns is not None and c.id not in taken]
        slow = sorted(done, key=lambda c: c.intended_ns - c.done_ns)[:most_slow]  # type: ignore[operator]
        taken.update(c.id for c in slow)
        rest = [c for c in clients if c.id not in taken]
        room = limit - len(taken)
        step = max(1, -(-len(rest) // max(room, 1)))
        sample = rest[::step][:room]
        chosen = sorted([*failed, *slow, *sample], key=lambda c: c.id)
        note = (
            f"{len(chosen):,} of {len(clients):,} requests are in this table: every failure "
            f"({len(failed):,}{' shown, more in the CSV' if len(failed) == most_failed else ''}), "
            f"the {len(slow):,} slowest, and every {step:,}th of the rest in order. "
            "The CSV export (--csv) holds every request."
        )
    by_client = record.server_by_client_id()
    origin = record.started_ns
    rows = []
    for c in chosen:
        s = by_client.get(c.id)
        error = c.error or (s.exception_type if s and s.exception_type else "")
        rows.append(
            [
                c.id,
                c.demo,
                c.status if c.status is not None else "",
                error or "",
                round(c.latency_ns / 1e6, 3) if c.latency_ns is not None else "",
                round((s.end_ns - s.arrival_ns) / 1e6, 3) if s and s.end_ns else "",
                _ms(origin, c.sent_ns),
                _ms(origin, c.done_ns),
                sum(1 for sp in s.spans if sp.kind == "sql") if s else "",
                len({sp.thread_id for sp in s.spans}) if s else "",
                0 if c.ok else 1,
            ]
        )
    return rows, note


def _script_json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, separators=(",", ":"), default=str).replace("</", "<\\/")


def _tiles(stats: Any) -> str:
    tiles = "".join(
        f'<div class="tile"><div class="muted">{_e(t.label)}</div><div class="value{" alert" if t.alert else ""}">'
        f"{_e(t.value)}</div></div>"
        for t in key_stats(stats)
    )
    return f'<div class="tiles">{tiles}</div>'


def _findings(stats: Any) -> str:
    if not stats.findings:
        return '<p class="muted">No findings: nothing stood out in this run.</p>'
    items = []
    for f in stats.findings:
        evidence = ", ".join(f"{_e(k)} {_e(v)}" for k, v in f.get("evidence", {}).items())
        items.append(
            f'<li data-finding="{_e(f["id"])}"><span class="sev {_e(f["severity"])}">{_e(f["severity"])}</span>'
            f"{_e(f['sentence'])}" + (f'<div class="evidence">evidence: {evidence}</div>' if evidence else "") + "</li>"
        )
    return '<ul class="findings">' + "".join(items) + "</ul>"


def _checks(record: RunRecord, stats: Any) -> str:
    claims = claims_for(record.config.target)
    if not claims:
        return '<p class="muted">This target declares no checks.</p>'
    lines = [f'<li class="{"ok" if o.ok else "bad"}">{_e(o.line)}</li>' for o in check_all(claims, stats)]
    caveat = (
        ""
        if at_defaults(record.config)
        else " The claims are made for the demo's default settings; this run's differ, so a ✗ may be theirs."
    )
    return (
        '<p class="muted">What the lesson says this demo shows, checked against this run\'s numbers.'
        f"{caveat}</p>"
        f'<ul class="checks">{"".join(lines)}</ul>'
    )


def _charts(runs: Sequence[tuple[str, RunRecord]]) -> str:
    from ..charts import common_bucket_ms

    bucket = common_bucket_ms([r for _, r in runs])
    series = [(name, time_series(r, bucket)) for name, r in runs]
    hists = list(zip([name for name, _ in runs], common_histograms([r for _, r in runs])))
    size = f"{bucket:g} ms" if bucket < 1000 else f"{bucket / 1000:g} s"
    return (
        f'<p class="muted">Per bucket of {size}: requests completed per second, the latency percentiles '
        "of the requests completed in the bucket, the most requests in flight; a gap is a bucket in which "
        "nothing completed.</p>"
        '<div class="charts">'
        + series_chart("Requests per second", series, ["rps"], "req/s")
        + series_chart("Latency", series, ["p50_ms", "p95_ms", "p99_ms"], "ms")
        + series_chart("Requests in flight", series, ["in_flight_max"], "requests")
        + histogram_chart("Latency histogram", hists)
        + "</div>"
    )


def _table(record: RunRecord) -> str:
    rows, note = table_rows(record)
    head = "".join(
        f'<th class="{"t" if key in ("demo", "error") else ""}" data-key="{key}">{_e(label)}</th>'
        for key, label in TABLE_COLUMNS
    )
    data = {"columns": [k for k, _ in TABLE_COLUMNS], "rows": rows}
    return (
        (f'<p class="muted" id="req-note">{_e(note)}</p>' if note else "") + '<div class="tools"><label>Filter '
        '<input id="req-filter" type="search" placeholder="demo, status, error…"></label>'
        '<label><input id="req-failed" type="checkbox"> failed only</label>'
        '<button id="req-prev" type="button">◀ previous</button><button id="req-next" type="button">next ▶</button>'
        '<span id="req-info" class="muted"></span><span class="muted">click a column to sort</span></div>'
        f'<table id="req-table"><thead><tr>{head}</tr></thead><tbody id="req-body"></tbody></table>'
        f'<script type="application/json" id="rows">{_script_json(data)}</script>'
        f"<script>{_SCRIPT}</script>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )


def report_html(record: RunRecord) -> str:
    """The whole report of one run as one HTML document."""
    stats = record.final_stats()
    title = f"{record.config.target} — {record.config.title}" if record.config.title else record.config.target
    state = run_state(record)
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{_e(settings_line(record))}</p>',
        f'<p class="state">{_e(state.upper())}</p>' if state else "",
        f'<p id="verdict" class="verdict">{_e(stats.verdict)}</p>',
        _tiles(stats),
        f'<div class="card">{_inline_svg(timeline_picture_svg(record))}</div>',
        "<h2>Findings</h2>",
        _findings(stats),
        "<h2>What to look for</h2>",
        _checks(record, stats),
        "<h2>Over time</h2>",
        _charts([(record.config.target, record)]),
        "<h2>Requests</h2>",
        _table(record),
        *(f'<p class="muted">note: {_e(n)}</p>' for n in record.notes),
        '<p class="muted">Written by Django Async Explorer; every number above was measured in this run.</p>',
    ]
    return _page(f"{title} — report", "".join(body))


def write_html(record: RunRecord, path: str | Path) -> Path:
    """The run's self-contained HTML report."""
    path = Path(path)
    path.write_text(report_html(record), encoding="utf-8")
    return path


def comparison_html(records: Sequence[RunRecord]) -> str:
    """The report of 2–4 runs: the comparison's sentence, the numbers side by side with each
    difference against the first run, the timelines stacked on one time axis, the findings
    side by side and the charts overlaid (``engine.compare`` computes what is compared)."""
    from ..compare import compare
    from ..report_card import run_span_ns

    cmp = compare(list(records))
    labels = [c.label for c in cmp.runs]
    title = "Comparison: " + " vs ".join(labels)
    head = "".join(f'<th class="t">{_e(label)}</th>' for label in labels)
    rows = []
    for index, metric in enumerate(cmp.metrics):
        cells = [f'<td class="t">{_e(cmp.runs[0].texts[metric.key])}</td>']
        for run, diffs in zip(cmp.runs[1:], cmp.differences):
            d = diffs[index]
            kind = {"better": "better", "worse": "worse"}.get(d.direction, "")
            ratio = f" ({d.ratio:.1f}× {d.direction})" if d.ratio is not None else f" ({d.direction})"
            cells.append(f'<td class="t {kind}" title="{_e(d.text)}">{_e(run.texts[metric.key])}{_e(ratio)}</td>')
        rows.append(f'<tr><th class="t">{_e(metric.label)}</th>{"".join(cells)}</tr>')
    span = max(run_span_ns(r) for r in records)
    timelines = "".join(
        f'<div class="card">{_inline_svg(timeline_picture_svg(r, height=380, span_ns=span, label=label))}</div>'
        for label, r in zip(labels, records)
    )
    findings = "".join(
        f'<div class="side"><h3>{_e(c.label)}</h3><p class="muted">{_e(settings_line(c.record))}</p>'
        f'<p class="verdict">{_e(c.stats.verdict)}</p>{_findings(c.stats)}</div>'
        for c in cmp.runs
    )
    body = [
        f"<h1>{_e(title)}</h1>",
        f'<p id="sentence" class="verdict">{_e(cmp.sentence)}</p>',
        "<h2>Numbers</h2>",
        f'<p class="muted">Each difference is against {_e(labels[0])}.</p>',
        f'<table class="stats" id="compare-stats"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>",
        "<h2>Timelines, on one time axis</h2>",
        timelines,
        "<h2>Findings</h2>",
        f'<div class="sides">{findings}</div>',
        "<h2>Over time</h2>",
        _charts(list(zip(labels, records))),
        '<p class="muted">Each run\'s own report (--html of `export`) has its request table. '
        "Written by Django Async Explorer; every number above was measured.</p>",
    ]
    return _page(title, "".join(body))


def write_comparison_html(records: Sequence[RunRecord], path: str | Path) -> Path:
    """A comparison of 2–4 runs as one self-contained HTML file (``CompareError`` for another count)."""
    path = Path(path)
    path.write_text(comparison_html(records), encoding="utf-8")
    return path
