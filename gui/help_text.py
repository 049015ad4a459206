"""The Help menu's texts, built from the engine's own phase descriptions so they never drift."""

from __future__ import annotations

import html
import platform

from engine.phases import BLOCKED_THRESHOLD_NS, MARKS, PHASE_HELP, PHASES

from . import theme


def what_am_i_looking_at() -> str:
    rows = "".join(
        f"<tr><td><span style='color:{theme.colour(p).name()}; font-size:16px'>■</span></td>"
        f"<td><b>{html.escape(p)}</b></td><td>{html.escape(PHASE_HELP.get(p, ''))}</td></tr>"
        for p in PHASES
    ) + "".join(
        f"<tr><td><span style='color:{c}; font-size:16px'>■</span></td><td><b>{html.escape(name)}</b></td>"
        f"<td>{html.escape(text)}</td></tr>"
        for name, (c, text) in MARKS.items()
    )
    return (
        "<h3>What am I looking at?</h3>"
        "<p><b>Requests view:</b> one bar per request, from when it was due to be sent to when its "
        "response was complete. Bars are packed into rows, so the <i>height</i> of the picture is how "
        "many requests overlapped. Each bar is painted in layers, innermost on top, so its colour at "
        "any moment shows what the request was doing then. A red hatched outline marks a failed request.</p>"
        "<p>Zoomed out, a pixel shows the phase that took most of its time. A white tick separates two "
        "requests that ran back to back in one row. Thin stripes in the lower half of a bar are the "
        "upstream calls that request made (fan-out demos). A dark tick is the first byte the client "
        "received. A red marker left of a row points at an outlier: press N to jump to the next.</p>"
        "<p><b>Threads view:</b> one lane per server thread, numbered from 1 in each run in order of first "
        "use, the event loop's own thread pinned at the top. Its lane is measured: every callback the loop "
        "ran, timed and drawn in the colour of whose code it was (a request's phase then, loop overhead, "
        "or Qt / window); empty is idle, the loop waiting. Hover it for busy and idle time and whose code "
        "ran; click it to open that request. (On the qasync loop it is not measured and shows the "
        "requests' spans on that thread instead.) Sync views each get a worker thread.</p>"
        "<p><b>Strip below:</b> event-loop lag (how late the loop's 4 ms heartbeat woke up, drawn over the "
        "interval it measured) and client requests in flight (the same count as the stats). Shading marks "
        f"where the loop was blocked (a heartbeat ≥ {BLOCKED_THRESHOLD_NS // 1_000_000} ms late); it is "
        "drawn behind the bars and as a hatched band over the time axis, so bar colours stay true. This "
        "window runs on that same loop, so while it is blocked the window is frozen too.</p>"
        f"<table cellspacing=6>{rows}</table>"
        "<p>Zoom with the mouse wheel (around the cursor), drag to pan, double-click or Ctrl+0 to fit. "
        "Shift+wheel scrolls the thread lanes. Hover a bar for its phases, SQL and thread.</p>"
        "<p><b>Your own code:</b> View → Playground (Ctrl+E) takes a view of yours; Mount (Ctrl+Enter) "
        "serves it at /playground/&lt;name&gt;/ and puts it in the catalogue, to run like a demo. "
        "File → Compose scenario… mixes demos and your views in one run.</p>"
    )


def about(versions: dict[str, str]) -> str:
    found = ", ".join(f"{k} {v}" for k, v in versions.items())
    return (
        "<h3>Django Async Explorer</h3>"
        "<p>A real Django site runs inside this window, served by uvicorn on the window's own event "
        "loop. Fire demo requests at it and watch what async Django really does.</p>"
        f"<p>{html.escape(found or 'Python ' + platform.python_version())}</p>"
    )
