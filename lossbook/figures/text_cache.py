"""A matplotlib text artist that lays each distinct string out once (for explorers).

An explorer's changing labels (a bar's value, a count in a cell) are drawn on every
update, and most of a :class:`matplotlib.text.Text` draw is text shaping: the glyph
layout of the string (``FT2Font._layout``) and the text's bounding box. Both depend only
on the string and the font, not on where the text stands, so :class:`LayoutCachedText`
keeps them per string and only renders the glyphs at the new position. The pixels are
the same as a plain ``Text``'s: the same glyphs at the same positions through the same
Agg call. Anything the fast path does not cover (several lines, mathtext, TeX, path
effects, a bbox, a renderer other than Agg) falls back to ``Text.draw``.
"""
from __future__ import annotations

from matplotlib import colors as mcolors
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.text import Text

__all__ = ["LayoutCachedText", "cached_text"]

_MAX_ENTRIES = 256   # strings kept per artist (a slider has at most a few hundred steps)


class LayoutCachedText(Text):
    """A ``Text`` whose layout (bbox, line offsets, glyphs) is computed once per string."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._layouts = {}

    def _layout_key(self, renderer):
        return (self.get_text(), hash(self._fontproperties), self.get_rotation(),
                self.get_rotation_mode(), self.get_horizontalalignment(),
                self.get_verticalalignment(), self.get_linespacing(), renderer.dpi,
                id(renderer))

    def _get_layout(self, renderer):
        if renderer is None or not hasattr(renderer, "dpi"):
            return super()._get_layout(renderer)
        key = self._layout_key(renderer)
        layout = self._layouts.get(key)
        if layout is None:
            layout = super()._get_layout(renderer)
            if len(self._layouts) >= _MAX_ENTRIES:
                self._layouts.clear()
            self._layouts[key] = layout
        return layout

    def _fast_path(self, renderer) -> bool:
        text = self.get_text()
        return (type(renderer) is RendererAgg and "\n" not in text and "$" not in text
                and not self.get_usetex() and not self.get_path_effects()
                and self._bbox_patch is None and not self.get_wrap())

    def draw(self, renderer):
        if renderer is None or not self._fast_path(renderer):
            return super().draw(renderer)
        self._renderer = renderer
        if not self.get_visible() or self.get_text() == "":
            return
        key = ("glyphs",) + self._layout_key(renderer)
        _bbox, info, _ = self._get_layout(renderer)
        (line, _wad, (dx, dy)), = info
        posx, posy = self.get_transform().transform(
            (float(self.convert_xunits(self._x)), float(self.convert_yunits(self._y))))
        if not (posx == posx and posy == posy) or abs(posx) == float("inf") \
                or abs(posy) == float("inf"):
            return super().draw(renderer)
        glyphs = self._layouts.get(key)
        if glyphs is None:
            font = renderer._prepare_font(self._fontproperties)
            items = font._layout(line, flags=get_hinting_flag(),
                                 features=self.get_fontfeatures(), language=self.get_language())
            size = self._fontproperties.get_size_in_points()
            glyphs = [(item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y)
                      for item in items]
            self._layouts[key] = glyphs
        renderer.open_group("text", self.get_gid())
        gc = renderer.new_gc()
        gc.set_foreground(mcolors.to_rgba(self.get_color()), isRGBA=True)
        gc.set_alpha(self.get_alpha())
        gc.set_url(self._url)
        gc.set_antialiased(self._antialiased)
        gc.set_snap(self.get_snap())
        self._set_gc_clip(gc)
        x, y = dx + posx, dy + posy
        _w, canvas_height = renderer.get_canvas_width_height()
        y = canvas_height - y   # Agg flips y
        renderer._draw_text_glyphs_and_boxes(gc, x, y, self.get_rotation(), glyphs, [])
        gc.restore()
        renderer.close_group("text")


def cached_text(ax, x, y, s, **kwargs) -> LayoutCachedText:
    """``ax.text(x, y, s, **kwargs)`` with a :class:`LayoutCachedText` (the same defaults)."""
    artist = LayoutCachedText(x, y, text=s, **{"verticalalignment": "baseline",
                                               "horizontalalignment": "left",
                                               "transform": ax.transData, "clip_on": False,
                                               **kwargs})
    if artist.get_clip_path() is None:
        artist.set_clip_path(ax.patch)
    ax._add_text(artist)
    return artist
