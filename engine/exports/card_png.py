"""The report card as PNG: the card's SVG (``engine.report_card``) rendered by Qt's SVG module.

Rendering the one SVG, rather than drawing the card a second time with QPainter, keeps the PNG
and the SVG identical by construction.  QtSvg ships with PySide6-Essentials and renders onto a
``QImage`` without a window or a display (the offscreen platform is enough), so the command
line writes the PNG headless too.  Only QtGui/QtSvg are used: no widgets in the engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ..record import RunRecord
from ..report_card import HEIGHT, WIDTH, card_svg


def render_png(svg: str, path: str | Path, scale: float = 1.0) -> Path:
    """Render SVG text to a PNG file ``scale`` times the SVG's own size."""
    from PySide6.QtCore import QByteArray, QCoreApplication, QRectF
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QCoreApplication.instance()
    if app is not None and not isinstance(app, QGuiApplication):
        # A headless run's loop made a QCoreApplication, and text needs a QGuiApplication's
        # fonts, which cannot be made beside it: render in a child process of its own.
        return _render_in_child(svg, Path(path), scale)
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display is needed
        QGuiApplication._report_card_app = QGuiApplication([])  # type: ignore[attr-defined]
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError("the report card's SVG could not be read by Qt")
    size = renderer.defaultSize()
    image = QImage(round(size.width() * scale), round(size.height() * scale), QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    renderer.render(painter, QRectF(0, 0, image.width(), image.height()))
    painter.end()
    path = Path(path)
    if not image.save(str(path), "PNG"):
        raise OSError(f"could not write the PNG {path}")
    return path


def _render_in_child(svg: str, path: Path, scale: float) -> Path:
    with tempfile.NamedTemporaryFile("w", suffix=".svg", encoding="utf-8", delete=False) as handle:
        handle.write(svg)
    try:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        done = subprocess.run(
            [sys.executable, "-m", __name__, handle.name, str(path), str(scale)],
            env=env,
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise OSError(f"could not render the PNG {path}: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
    return path


def write_png(record: RunRecord, path: str | Path) -> Path:
    """The run's report card, 1600 × 900, as PNG."""
    return render_png(card_svg(record), path)


__all__ = ["HEIGHT", "WIDTH", "render_png", "write_png"]

if __name__ == "__main__":  # the child of ``_render_in_child``: SVG_FILE PNG_FILE SCALE
    render_png(Path(sys.argv[1]).read_text(encoding="utf-8"), sys.argv[2], float(sys.argv[3]))
