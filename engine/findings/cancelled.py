"""Requests that ended early: by Stop (not a failure), or by the client giving up, and then
what Django did with the view (under ASGI it notices the disconnect and cancels it)."""

from __future__ import annotations

from . import Finding, rule
from .facts import Facts
from .measure import fmt_s


def _cancelled_server_side(request) -> bool:
    return request.cancelled or any(s.error == "CancelledError" for s in request.spans)


@rule("cancelled")
def cancelled(facts: Facts) -> list[Finding] | None:
    found = []
    stopped = facts.stopped_clients
    if stopped or facts.record.stopped:
        found.append(
            Finding(
                "stopped",
                "notice",
                f"stopped by the user after {fmt_s(facts.wall_ns / 1e9)}: {len(stopped)} requests in flight were "
                f"cancelled (not failures), {facts.n - len(stopped)} had finished",
                {"cancelled": len(stopped), "finished": facts.n - len(stopped)},
                weight=1,
            )
        )
    gave_up = facts.timed_out_clients
    if gave_up:
        servers = [facts.by_client.get(c.id) for c in gave_up]
        seen = [s for s in servers if s is not None]
        views_cancelled = sum(1 for s in seen if _cancelled_server_side(s))
        disconnected = sum(1 for s in seen if s.disconnected)
        ran_on = sum(1 for s in seen if not _cancelled_server_side(s))
        after = gave_up[0].error.removeprefix("client gave up after ").split(" ")[0] if gave_up[0].error else "?"
        evidence = {
            "timed_out": len(gave_up),
            "server_saw": len(seen),
            "disconnect_seen": disconnected,
            "views_cancelled": views_cancelled,
            "views_ran_on": ran_on,
            "cancelled_share": round(views_cancelled / len(gave_up), 3),
        }
        if views_cancelled:
            sentence = (
                f"the client gave up on {len(gave_up)} requests after {after} s, and Django cancelled the view of "
                f"{views_cancelled} of them (CancelledError raised in the view"
                + (f"; {ran_on} ran on to the end)" if ran_on else ")")
            )
        else:
            sentence = (
                f"the client gave up on {len(gave_up)} requests after {after} s; the server did not cancel "
                f"their views ({ran_on} ran on to the end)"
            )
        found.append(Finding("client-gave-up", "warning", sentence, evidence, weight=50))
    return found or None
