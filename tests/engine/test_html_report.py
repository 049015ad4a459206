"""The HTML report of real runs, opened in headless Chromium with no network: it asks for
nothing, it shows the run's findings, checks and charts, and its request table sorts, filters
and pages in the browser."""

from __future__ import annotations

import json
import re

import pytest

from engine.exports.html_report import MAX_TABLE_ROWS, report_html, table_rows, write_html
from tests.engine.browser import dump_dom, screenshot

# Run in the page after it loaded: what it fetched, and what the table does when used.
PROBE = """
<script>
window.addEventListener('load', function(){
  function rows(){ return Array.from(document.querySelectorAll('#req-body tr')); }
  var out = {resources: performance.getEntriesByType('resource').map(function(e){ return e.name; })};
  out.rows = rows().length;
  out.info = document.getElementById('req-info').textContent;
  var failed = document.getElementById('req-failed');
  failed.click();
  out.failedRows = rows().length;
  out.allMarkedFailed = rows().every(function(tr){ return tr.className === 'failed'; });
  failed.click();
  var th = document.querySelector('th[data-key=latency_ms]');
  th.click(); th.click();
  out.latencies = rows().map(function(tr){ return parseFloat(tr.children[4].textContent); });
  var filter = document.getElementById('req-filter');
  filter.value = 'no-such-demo'; filter.dispatchEvent(new Event('input'));
  out.filtered = rows().length;
  out.filteredInfo = document.getElementById('req-info').textContent;
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


@pytest.fixture(scope="module")
def blocking_record(lab_runner):
    return lab_runner.run("blocking-sleep", concurrency=3, requests=6, params={"delay": 0.1})


@pytest.fixture(scope="module")
def failing_record(lab_runner):
    return lab_runner.run("orm-sync-in-async", concurrency=2, requests=4)


def _probe(tmp_path, record, name):
    page = tmp_path / f"{name}.html"
    write_html(record, page)
    probed = tmp_path / f"{name}-probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    dom = dump_dom(probed)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-3000:]
    import html as html_lib

    return page, dom, json.loads(html_lib.unescape(found.group(1)))


def test_report_asks_for_nothing_and_shows_the_run(blocking_record, tmp_path):
    page, dom, probe = _probe(tmp_path, blocking_record, "blocking")
    text = page.read_text()
    # Nothing to fetch: no address in an attribute, no stylesheet import, no font or image URL.
    assert not re.search(r"""(src|href|action|srcset)\s*=""", text, re.I)
    assert not re.search(r"https?://", text) and "@import" not in text and "url(" not in text
    assert probe["resources"] == []
    stats = blocking_record.final_stats()
    assert stats.findings
    for finding in stats.findings:
        assert f'data-finding="{finding["id"]}"' in dom
    assert "loop-blocked" in {f["id"] for f in stats.findings}
    assert stats.verdict.split(":")[0] in dom
    assert "What to look for" in dom and ("✓" in dom or "✗" in dom)
    assert dom.count('<svg class="chart"') == 4
    assert probe["rows"] == 6 and probe["info"] == "rows 1–6 of 6"
    assert probe["failedRows"] == 0  # none failed: the "failed only" box empties the table
    latencies = probe["latencies"]
    assert latencies == sorted(latencies, reverse=True) and len(latencies) == 6
    assert sorted(latencies) == sorted(round(c.latency_ns / 1e6, 3) for c in blocking_record.client)
    assert probe["filtered"] == 0 and probe["filteredInfo"] == "no rows match"
    shot = screenshot(page, tmp_path / "blocking.png")
    assert shot.stat().st_size > 20_000


def test_failures_are_marked_and_filtered(failing_record, tmp_path):
    stats = failing_record.final_stats()
    assert stats.errors == 4
    _page, dom, probe = _probe(tmp_path, failing_record, "failing")
    assert probe["resources"] == []
    assert probe["rows"] == 4 and probe["failedRows"] == 4 and probe["allMarkedFailed"]
    assert "SynchronousOnlyOperation" in dom


def test_a_long_run_keeps_a_bounded_table(lab_runner):
    record = lab_runner.run("sync-sleep", concurrency=8, requests=40, params={"delay": 0.01})
    rows, note = table_rows(record, limit=10)
    assert len(rows) == 10
    assert "10 of 40 requests" in note and "CSV" in note
    slowest = max(record.client, key=lambda c: c.latency_ns)
    assert slowest.id in {r[0] for r in rows}
    full, no_note = table_rows(record)
    assert len(full) == 40 and no_note == "" and len(record.client) < MAX_TABLE_ROWS
    assert len(report_html(record)) < 400_000


def test_comparison_report_in_the_browser(lab_runner, blocking_record, tmp_path):
    from engine.compare import METRICS, CompareError, compare
    from engine.exports.html_report import write_comparison_html

    sync = lab_runner.run("sync-sleep", concurrency=3, requests=6, params={"delay": 0.1})
    records = [sync, blocking_record]
    page = write_comparison_html(records, tmp_path / "compare.html")
    text = page.read_text()
    assert not re.search(r"""(src|href|action|srcset)\s*=""", text, re.I) and not re.search(r"https?://", text)
    probed = tmp_path / "compare-probed.html"
    probed.write_text(text.replace("</body>", PROBE.replace("#req-body", "#compare-stats tbody") + "</body>"))
    dom = dump_dom(probed)
    cmp = compare(records)
    import html as html_lib

    shown = re.search(r'<p id="sentence" class="verdict">(.*?)</p>', dom, re.S)
    assert shown and html_lib.unescape(shown.group(1)) == cmp.sentence
    assert dom.count("Requests over time:") == 2  # the two timelines, stacked
    assert len(re.findall(r"<tr><th class=\"t\">", dom)) == len(METRICS)
    assert "sync-sleep" in dom and "blocking-sleep" in dom
    # The blocking run is the slower one: its wall time cell is marked worse against sync-sleep.
    wall = next(d for d in cmp.differences[0] if d.metric == "wall")
    assert wall.direction == "worse" and 'class="t worse"' in dom
    screenshot(page, tmp_path / "compare.png")
    with pytest.raises(CompareError):
        write_comparison_html([sync], tmp_path / "one.html")
