"""Record each Django template render as a span.

Django sends ``template_rendered`` only under its test runner, so the render method of
the template engine's compiled ``Template`` is wrapped instead.  Included templates
render through the same method and appear as nested spans.
"""

from __future__ import annotations

import functools

from django.template.base import Template

from .collector import TraceCollector, current_request, now_ns
from .spans import TEMPLATE

_installed = False


def install(collector: TraceCollector) -> None:
    global _installed
    if _installed:
        return
    _installed = True
    original = Template.render

    @functools.wraps(original)
    def traced_render(self, context):
        if current_request.get() is None:
            return original(self, context)
        start = now_ns()
        error = None
        try:
            return original(self, context)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            collector.add_span(TEMPLATE, self.name or "<string template>", start, now_ns(), error)

    Template.render = traced_render
