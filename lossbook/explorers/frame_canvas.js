// lossbook's explorer canvas (an anywidget ES module; see frame_canvas.py).
//
// Each frame arrives as two state updates: first `patch` and `patch_rects` (raw RGBA of
// the rectangles that changed since frame `seq - 1`, or null) with `seq`; then `frame`
// (the whole picture, a PNG) with `frame_seq`. A view showing frame `seq - 1` paints the
// patch at once with putImageData: no decode, nothing to wait for. Any other view (new,
// reloaded, reconnected, or one that missed a frame) waits for the whole frame of the
// newest seq, decodes it with createImageBitmap and takes patches again afterwards. The
// canvas has the figure's size in pixels, set by the kernel: no resize handshake, and a
// patch is never painted on any frame but its own.

function render({ model, el }) {
  const canvas = document.createElement("canvas");
  canvas.className = "lossbook-canvas";
  canvas.setAttribute("role", "img");
  const context = canvas.getContext("2d");
  let painted = -1;      // the seq of the frame on the canvas; -1: none
  let decoding = false;  // a whole frame is being decoded

  const sizeChanged = () => {
    const width = model.get("width"), height = model.get("height");
    if (canvas.width === width && canvas.height === height) return false;
    canvas.width = width;                          // clears the canvas
    canvas.height = height;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    painted = -1;
    return true;
  };
  const label = () => canvas.setAttribute("aria-label", model.get("alt"));

  function paintPatch() {
    const rects = model.get("patch_rects");
    const patch = model.get("patch");
    const bytes = new Uint8ClampedArray(patch.buffer, patch.byteOffset, patch.byteLength);
    let at = 0;
    for (const [x, y, w, h] of rects) {
      const size = w * h * 4;
      context.putImageData(new ImageData(bytes.slice(at, at + size), w, h), x, y);
      at += size;
    }
  }

  async function paintWhole() {
    decoding = true;
    try {
      // Until the newest frame is shown; if its PNG has not come yet, change:frame_seq
      // calls this again when it does.
      while (painted !== model.get("seq") && model.get("frame_seq") === model.get("seq")) {
        const seq = model.get("frame_seq");
        const frame = model.get("frame");
        if (!frame || frame.byteLength === 0) return;
        const bitmap = await createImageBitmap(new Blob([frame], { type: "image/png" }));
        sizeChanged();
        context.drawImage(bitmap, 0, 0);
        bitmap.close();
        painted = seq;
      }
    } catch (error) {
      console.error("lossbook: a frame could not be decoded", error);
    } finally {
      decoding = false;
    }
    // A patch that came during the decode may apply to the frame just drawn.
    if (painted >= 0 && painted === model.get("seq") - 1) update();
  }

  function update() {
    const seq = model.get("seq");
    if (decoding || seq === painted) return;       // paintWhole catches up by itself
    const rects = model.get("patch_rects");
    if (!sizeChanged() && rects && painted === seq - 1) {
      paintPatch();
      painted = seq;
    } else {
      paintWhole();
    }
  }

  sizeChanged();
  label();
  el.classList.add("lossbook-canvas-view");
  el.appendChild(canvas);
  paintWhole();
  const wholeFrameCame = () => { if (!decoding && painted !== model.get("seq")) paintWhole(); };
  model.on("change:seq", update);
  model.on("change:frame_seq", wholeFrameCame);
  model.on("change:alt", label);
  return () => {
    model.off("change:seq", update);
    model.off("change:frame_seq", wholeFrameCame);
    model.off("change:alt", label);
  };
}

export default { render };
