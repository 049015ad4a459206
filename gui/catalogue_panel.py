"""The left panel: every demo and scenario, a filter box, and the selected one's lesson and source.

It is built from ``engine.plan.catalogue()`` and ``engine.plan.scenarios()`` at start-up, so
demos a colleague adds to the site appear here without touching the GUI; ``refresh()``
rebuilds it when the person mounts a playground view or saves a scenario of their own.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from embedded_site.demos.catalogue import GROUPS, Demo
from embedded_site.demos.markup import lesson_html, plain
from embedded_site.playground import GROUP as PLAYGROUND_GROUP
from engine.plan import catalogue, scenarios
from engine.scenarios import SCENARIOS, Scenario

from .highlighter import PythonHighlighter
from .theme import mono_font

SCENARIO_GROUP = "Scenarios"
MY_SCENARIO_GROUP = "My scenarios"
_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Target:
    """What the user picked: a demo, a scenario, or a served project's URL pattern (one of them)."""

    id: str
    demo: Demo | None = None
    scenario: Scenario | None = None
    route: Any = None  # embedded_site.project.routes.Route, for a project's URL

    @property
    def title(self) -> str:
        """As written, with its `code` in backticks (see ``markup``)."""
        return self.demo.title if self.demo else self.scenario.title if self.scenario else self.id

    @property
    def lesson(self) -> str:
        if self.route is not None:
            return self.route.view
        return self.demo.lesson if self.demo else self.scenario.lesson if self.scenario else ""


def all_targets() -> dict[str, Target]:
    from embedded_site.project import active

    if active() is not None:  # the lab serves a person's project: its URLs, not the demos
        from .project_panel import route_targets

        return route_targets()
    found = {d.id: Target(d.id, demo=d) for d in catalogue().values()}
    found.update({s.id: Target(s.id, scenario=s) for s in scenarios().values()})
    return found


def group_of(target: Target) -> str:
    if target.route is not None:
        from .project_panel import group_name

        return group_name()
    if target.demo is not None:
        return target.demo.group
    return SCENARIO_GROUP if target.id in SCENARIOS else MY_SCENARIO_GROUP


def scenario_source(scenario: Scenario) -> str:
    """Scenarios have no view of their own: show what they send, as readable Python-ish lines."""
    lines = [f"# scenario {scenario.id!r}: {len(scenario.streams)} streams fired together"]
    for s in scenario.streams:
        params = ", ".join(f"{k}={v!r}" for k, v in s.params.items())
        how = f"{s.requests} requests" if s.requests else f"{s.duration_s:g} s"
        rate = f" at {s.rate:g} req/s (open loop)" if s.rate else f", concurrency {s.concurrency}"
        lines.append(f"stream({s.demo!r}, {params or 'defaults'}): {how}{rate}, starting at {s.start_s:g} s")
    return "\n".join(lines) + "\n"


def _project_bar() -> Any:
    """The method / URL / arguments bar, while the lab serves a project (else None)."""
    from embedded_site.project import active

    if active() is None:
        return None
    from .project_panel import ProjectBar

    return ProjectBar()


class WrappingScrollArea(QScrollArea):
    """A vertical scroll area for word-wrapped text: its content is as tall as the text needs at
    the area's width (QScrollArea alone squeezes a wrapped label to the viewport and cuts it)."""

    def __init__(self, content: QWidget) -> None:
        super().__init__(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(content)

    def fit_content(self) -> None:
        content = self.widget()
        if content is not None and content.layout() is not None:
            content.setMinimumHeight(content.layout().heightForWidth(self.viewport().width()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        self.fit_content()
        super().resizeEvent(event)


class CataloguePanel(QWidget):
    """Tree of demos grouped like the catalogue, with a live filter and a detail pane."""

    selected = Signal(object)  # Target
    open_in_playground = Signal(object)  # Demo: copy its source into the playground

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets = all_targets()
        self.filter = QLineEdit(placeholderText="Filter demos (title, id, lesson)…", clearButtonEnabled=True)
        self.tree = QTreeWidget(headerHidden=True)
        self.title = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        # Rich text, so a lesson's `code` shows as code, not as Markdown backticks.
        self.lesson = QLabel(
            wordWrap=True,
            textFormat=Qt.TextFormat.RichText,
            textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse,
        )
        self.lesson.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.attribution = QLabel(wordWrap=True, openExternalLinks=True)
        self.attribution.setStyleSheet("color: #666; font-style: italic;")
        self.source = QPlainTextEdit(readOnly=True)
        self.source.setFont(mono_font(10))
        # Never wrapped: a wrapped line starts at column 0 and reads as wrong Python.  A long
        # line scrolls sideways instead (the horizontal scroll bar shows there is more).
        self.source.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = PythonHighlighter(self.source.document())
        self.to_playground = QPushButton(
            "Open in playground", toolTip="copy this view into the playground to change it"
        )
        self.to_playground.clicked.connect(self._open_in_playground)
        self.to_playground.hide()

        # The lesson scrolls in its own area (a long lesson on a small screen is never cut off);
        # the user moves the splitters between the list, the lesson and the source.
        text = QWidget()
        t = QVBoxLayout(text)
        t.setContentsMargins(4, 4, 4, 4)
        for w in (self.title, self.lesson, self.attribution):
            t.addWidget(w)
        t.addStretch(1)
        self.lesson_scroll = WrappingScrollArea(text)
        self.lesson_scroll.setMinimumHeight(60)
        self.source.setMinimumHeight(60)
        self.tree.setMinimumHeight(60)
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.tree)
        self.split.addWidget(self.lesson_scroll)
        source_box = QWidget()
        sb = QVBoxLayout(source_box)
        sb.setContentsMargins(0, 0, 0, 0)
        sb.setSpacing(2)
        sb.addWidget(self.source, 1)
        sb.addWidget(self.to_playground)
        self.split.addWidget(source_box)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([240, 200, 340])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.project_bar = _project_bar()
        if self.project_bar is not None:
            self.project_bar.changed.connect(self.selected)
            lay.addWidget(self.project_bar)
            self.filter.setPlaceholderText("Filter URL patterns (pattern, view)…")
        lay.addWidget(self.filter)
        lay.addWidget(self.split, 1)

        self._fill()
        self.filter.textChanged.connect(self.apply_filter)
        self.filter.returnPressed.connect(self.pick_first_match)
        self.tree.currentItemChanged.connect(self._on_current)

    def _fill(self) -> None:
        groups: dict[str, QTreeWidgetItem] = {}
        order = [*GROUPS, PLAYGROUND_GROUP, SCENARIO_GROUP, MY_SCENARIO_GROUP]
        for target in self.targets.values():
            group = group_of(target)
            if group not in order:
                order.append(group)
        for name in order:
            item = QTreeWidgetItem([name])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            groups[name] = item
        for target in self.targets.values():
            group = group_of(target)
            child = QTreeWidgetItem([plain(target.title)])
            child.setData(0, _ROLE, target.id)
            child.setToolTip(0, f"<b>{html.escape(target.id)}</b><br>{lesson_html(target.lesson)}")
            groups[group].addChild(child)
        for name in order:
            if groups[name].childCount():
                self.tree.addTopLevelItem(groups[name])
                groups[name].setExpanded(True)

    def refresh(self) -> None:
        """Rebuild the list from the catalogue (mounted playground views and saved scenarios
        included), keeping the selection and the filter."""
        current = self.current.id if self.current is not None else None
        self.tree.blockSignals(True)
        self.tree.clear()
        self.targets = all_targets()
        self._fill()
        self.tree.blockSignals(False)
        self.apply_filter(self.filter.text())
        if current is not None:
            self.select(current)

    def _open_in_playground(self) -> None:
        target = self.current
        if target is not None and target.demo is not None:
            self.open_in_playground.emit(target.demo)

    def _share_lesson_and_source(self) -> None:
        """Give the lesson the height it needs when the source can spare it (a short view
        leaves room; a long one keeps at least half), so a lesson is read without scrolling."""
        tree, lesson, source = self.split.sizes()
        if lesson <= 0:
            return
        need = self.lesson_scroll.widget().minimumHeight() + 4
        lines = self.source.document().blockCount()
        source_need = (lines + 2) * self.source.fontMetrics().lineSpacing() + 24  # + the scroll bar
        room = lesson + source
        want = min(need, max(room - source_need, room // 2))
        if want > lesson:
            self.split.setSizes([tree, want, room - want])

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            shown = 0
            for j in range(group.childCount()):
                child = group.child(j)
                target = self.targets[child.data(0, _ROLE)]
                hay = " ".join([target.id, plain(target.title), plain(target.lesson)]).lower()
                hide = bool(needle) and needle not in hay
                child.setHidden(hide)
                shown += not hide
            group.setHidden(shown == 0)
        # The selection stays where the eye is: when the filter is cleared (or still shows it),
        # scroll back to it instead of leaving the list at whatever the filter scrolled to.
        current = self.tree.currentItem()
        if current is not None and not current.isHidden():
            self.tree.scrollToItem(current, QTreeWidget.ScrollHint.EnsureVisible)

    def visible_targets(self) -> list[str]:
        """The ids the list shows now, top to bottom."""
        shown = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group.isHidden():
                continue
            shown.extend(
                group.child(j).data(0, _ROLE) for j in range(group.childCount()) if not group.child(j).isHidden()
            )
        return shown

    def pick_first_match(self) -> None:
        """Enter in the filter: select the first entry it shows (and run nothing)."""
        shown = self.visible_targets()
        if shown:
            self.select(shown[0])

    def select(self, target_id: str) -> bool:
        """Select a demo or scenario by id; False if the catalogue has no such entry."""
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            for j in range(group.childCount()):
                if group.child(j).data(0, _ROLE) == target_id:
                    self.tree.setCurrentItem(group.child(j))
                    return True
        return False

    @property
    def current(self) -> Target | None:
        item = self.tree.currentItem()
        target_id = item.data(0, _ROLE) if item is not None else None
        return self.targets.get(target_id) if target_id else None

    def _on_current(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        target = self.current
        if target is None:
            return
        self.title.setText(lesson_html(target.title))
        self.to_playground.setVisible(target.demo is not None)
        if target.demo is not None:
            kind = "async view" if target.demo.is_async else "sync view"
            twin = self.targets.get(target.demo.twin or "")
            compare = f"<br>Compare with its twin: {lesson_html(twin.title)}" if twin else ""
            where = f"{kind} at <code>{html.escape(target.demo.path)}</code>"
            self.lesson.setText(f"{lesson_html(target.demo.lesson)}<br><br>{where}{compare}")
            self.attribution.setText(target.demo.attribution or "")
            self.attribution.setVisible(bool(target.demo.attribution))
            self.source.setPlainText(target.demo.source)
        elif target.scenario is not None:
            self.lesson.setText(lesson_html(target.scenario.lesson))
            self.attribution.setVisible(False)
            self.source.setPlainText(scenario_source(target.scenario))
        elif target.route is not None:
            from .project_panel import route_lesson

            self.lesson.setText(route_lesson(target.route))
            self.attribution.setVisible(False)
            self.source.setPlainText(target.route.code)
        self.lesson_scroll.fit_content()
        self._share_lesson_and_source()
        if self.project_bar is not None and target.route is not None:
            self.project_bar.show_route(target.route)  # emits the URL to run, with the method
            return
        self.selected.emit(target)
