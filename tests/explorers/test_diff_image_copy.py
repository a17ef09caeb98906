"""explorers/base.py copies matplotlib's ``FigureCanvasWebAggCore.get_diff_image`` (with a
faster PNG encoder, sending every frame whole): these tests fail when matplotlib's version
of it changes, and check that the copy's frames are matplotlib's rendered pixels."""
from __future__ import annotations

import hashlib
import inspect
import io
import textwrap
import tokenize

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore
from matplotlib.figure import Figure
from PIL import Image

from lossbook.explorers.base import _fast_canvas_class

#: Fingerprint of the code of matplotlib's get_diff_image that base.py copies (as in
#: matplotlib 3.11.2): its tokens, without comments, blank lines or indentation.
EXPECTED = "1091cbc8a850fef3"


def fingerprint(function) -> str:
    return fingerprint_source(inspect.getsource(function))


def fingerprint_source(source: str) -> str:
    source = textwrap.dedent(source)
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER}
    tokens = [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in skip]
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()[:16]


def test_matplotlibs_get_diff_image_is_the_one_base_py_copies():
    import matplotlib

    found = fingerprint(FigureCanvasWebAggCore.get_diff_image)
    assert found == EXPECTED, (
        f"matplotlib {matplotlib.__version__} changed FigureCanvasWebAggCore.get_diff_image "
        f"(fingerprint {found}, expected {EXPECTED}). lossbook/explorers/base.py "
        "(_fast_canvas_class) copies its logic: port the change there, then set EXPECTED "
        "to the new fingerprint.")


def test_the_fingerprint_sees_a_change_of_logic_but_not_of_comments():
    original = """
        def get_diff_image(self):
            if self._png_is_old:      # a comment
                return 1
    """
    recommented = """
    def get_diff_image(self):
        # another comment

        if self._png_is_old:
            return 1
    """
    changed = original.replace("self._png_is_old", "self._png_is_old or self._force_full")
    assert fingerprint_source(original) == fingerprint_source(recommented)
    assert fingerprint_source(original) != fingerprint_source(changed)


def _canvases():
    """The same figure under matplotlib's canvas and under base.py's copy."""
    pair = []
    for canvas_class in (FigureCanvasWebAggCore, _fast_canvas_class(FigureCanvasWebAggCore)):
        figure = Figure(figsize=(3.0, 2.0), dpi=40)
        ax = figure.add_subplot()
        (line,) = ax.plot([0, 1, 2], [0, 1, 0])
        pair.append((canvas_class(figure), figure, line))
    return pair


def _frame(canvas):
    """Draw as WebAgg's draw() does (without a manager) and take the frame to send."""
    canvas._png_is_old = True
    FigureCanvasAgg.draw(canvas)
    return canvas.get_diff_image()


def _state(canvas, png):
    pixels = None if png is None else np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
    return (pixels, canvas._current_image_mode, canvas._force_full, canvas._png_is_old,
            canvas._last_buff.copy())


STEPS = {
    "first frame (full)": lambda fig, line, canvas: None,
    "no new drawing": "no-draw",
    "one line moved (diff)": lambda fig, line, canvas: line.set_ydata([1, 0, 1]),
    "transparent background (full)": lambda fig, line, canvas: fig.patch.set_alpha(0.5),
    "opaque again (diff)": lambda fig, line, canvas: fig.patch.set_alpha(1.0),
    "resized (full)": lambda fig, line, canvas: fig.set_size_inches(4.0, 2.0),
    "refresh asked (full)": lambda fig, line, canvas: setattr(canvas, "_force_full", True),
}


def test_the_copy_sends_every_frame_whole_with_matplotlibs_pixels():
    """base.py sends every frame as a full picture (the blank-canvas fix of issue 13): each
    frame is exactly what matplotlib's canvas has rendered, in "full" mode, and the state
    the rest of matplotlib reads (_force_full, _png_is_old, _last_buff) is kept as
    matplotlib's own get_diff_image keeps it. matplotlib's own canvas, driven the same way,
    still mixes full and diff frames: the steps exercise both of its branches."""
    (theirs, their_fig, their_line), (ours, our_fig, our_line) = _canvases()
    their_modes = []
    for step, change in STEPS.items():
        if change == "no-draw":
            expected, got = theirs.get_diff_image(), ours.get_diff_image()
        else:
            change(their_fig, their_line, theirs)
            change(our_fig, our_line, ours)
            expected, got = _frame(theirs), _frame(ours)
        e, g = _state(theirs, expected), _state(ours, got)
        their_modes.append(e[1])
        if e[0] is None:
            assert g[0] is None, step
            continue
        rendered = np.asarray(ours.get_renderer().buffer_rgba())
        np.testing.assert_array_equal(g[0], rendered, err_msg=step)
        assert g[1] == "full", step
        assert g[2:4] == e[2:4], step
        np.testing.assert_array_equal(g[4], rendered.view(np.uint32).squeeze(2), err_msg=step)
    assert their_modes == ["full", "full", "diff", "full", "diff", "full", "full"]


@pytest.mark.parametrize("attribute", ["_png_is_old", "_force_full", "_last_buff",
                                       "_current_image_mode"])
def test_matplotlib_still_sets_the_state_the_copy_reads(attribute):
    canvas = FigureCanvasWebAggCore(Figure())
    assert hasattr(canvas, attribute)
