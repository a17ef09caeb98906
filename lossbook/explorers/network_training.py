"""Lesson 09 explorer: train the digit network with your settings, scrub through the epochs.

Controls: the loss (cross-entropy or squared error on the softmax), the learning rate, the
batch size, the hidden width, and an epoch slider. Each combination of the first four is
one training run of :func:`lossbook.nn.train` (plain SGD, 20 epochs, fixed seeds), kept
in a cache shared by every instance in the process; the epoch slider only chooses what
to show from a run, so it never trains anything.

The kernel is never blocked by training: a run that is not cached yet trains in a
background thread, one epoch at a time. After each epoch the thread asks the kernel's
event loop (``loop.add_callback``, thread-safe) to redraw, so the curves grow while it
trains, and the readout says how far it has got. Without a running kernel (tests,
scripts) nothing is scheduled: call :meth:`NetworkTrainingExplorer.wait` to finish the
current run and redraw. An update only reads cached arrays and blits the changed artists.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from lossbook import data as datasets
from lossbook import nn
from lossbook.explorers.base import Explorer, dropdown, fmt, int_slider
from lossbook.figures import network_training as training_figure

__all__ = ["EPOCHS", "LOSSES", "LEARNING_RATES", "BATCH_SIZES", "WIDTHS", "Run", "run_key",
           "train_run", "NetworkTrainingExplorer", "network_training"]

EPOCHS = 20
LOSSES = (("cross-entropy", "cross_entropy"), ("squared error (softmax)", "mse"))
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0)
BATCH_SIZES = (8, 32, 128, 512)
WIDTHS = (8, 32, 128)
SEED = 0


@dataclass
class Run:
    """One training run's curves so far (index = epoch), and whether it is complete."""

    key: tuple
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    val_predictions: list = field(default_factory=list)
    done: bool = False
    error: str | None = None

    @property
    def epochs_done(self) -> int:
        """Completed epochs (-1: not even the untrained network measured yet)."""
        return len(self.train_loss) - 1


def run_key(loss: str, lr: float, batch_size: int, hidden: int) -> tuple:
    return (loss, float(lr), int(batch_size), int(hidden))


def train_run(key: tuple, digits, *, epochs: int = EPOCHS, run: Run | None = None, on_epoch=None) -> Run:
    """Train the run ``key = (loss, lr, batch_size, hidden)`` on ``digits``, filling ``run``
    epoch by epoch (``on_epoch(run)`` after each one)."""
    loss, lr, batch_size, hidden = key
    run = Run(key) if run is None else run
    net = nn.MLP((digits.n_features, hidden, digits.n_classes), seed=SEED)

    def record(_epoch, history):
        # train_loss last: a reader takes len(train_loss) as the number of complete epochs
        run.val_loss.append(history.val_loss[-1])
        run.val_accuracy.append(history.val_accuracy[-1])
        run.val_predictions.append(history.val_predictions[-1])
        run.train_accuracy.append(history.train_accuracy[-1])
        run.train_loss.append(history.train_loss[-1])
        if on_epoch is not None:
            on_epoch(run)

    nn.train(net, digits.X_train, digits.y_train, loss=loss, optimizer=nn.SGD(lr), epochs=epochs,
             batch_size=batch_size, seed=SEED, validation=(digits.X_val, digits.y_val), on_epoch=record)
    run.done = True
    return run


class _Trainer:
    """One background thread training the requested runs, newest request first; runs are cached."""

    def __init__(self, digits):
        self.digits = digits
        self.runs: dict[tuple, Run] = {}
        self._queue: list[tuple] = []
        self._active = None
        self._wake = threading.Condition(threading.Lock())
        self._listeners: list = []
        self._thread = threading.Thread(target=self._work, name="lossbook-network-training", daemon=True)
        self._thread.start()

    def request(self, key: tuple) -> Run:
        """The run for ``key`` (possibly still empty); queued first if it is not trained yet.

        The same setting with the other loss is queued last, so the comparison the lesson
        asks for is usually ready when the learner switches.
        """
        with self._wake:
            run = self._enqueue(key, front=True)
            other = "mse" if key[0] == "cross_entropy" else "cross_entropy"
            self._enqueue((other, *key[1:]), front=False)
            return run

    def _enqueue(self, key: tuple, *, front: bool) -> Run:
        run = self.runs.setdefault(key, Run(key))
        if not run.done and key != self._active:
            if key in self._queue:
                if not front:
                    return run
                self._queue.remove(key)
            self._queue.insert(0, key) if front else self._queue.append(key)
            self._wake.notify()
        return run

    def _work(self):
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                key = self._queue.pop(0)
                run = self.runs[key]
                if run.done:
                    continue
                self._active = key
            try:
                train_run(key, self.digits, run=run, on_epoch=self._notify)
            except Exception as exc:  # noqa: BLE001 - a failed run must not stop the thread
                run.error = f"{type(exc).__name__}: {exc}"
                run.done = True
            finally:
                with self._wake:
                    self._active = None
            self._notify(run)

    def add_listener(self, method):
        """Call ``method(run)`` after every epoch (held weakly: a closed explorer is let go)."""
        self._listeners.append(weakref.WeakMethod(method))

    def _notify(self, run):
        for ref in list(self._listeners):
            callback = ref()
            if callback is None:
                self._listeners.remove(ref)
            else:
                callback(run)

    def wait(self, key: tuple, timeout: float = 120.0) -> Run:
        """Block until run ``key`` is complete (for tests and scripts)."""
        import time

        run = self.request(key)
        deadline = time.monotonic() + timeout
        while not run.done:
            if time.monotonic() > deadline:
                raise TimeoutError(f"training run {key} did not finish in {timeout} s")
            time.sleep(0.01)
        return run


_TRAINERS: dict[int, _Trainer] = {}
_TRAINERS_LOCK = threading.Lock()


def _trainer(seed: int = 0) -> _Trainer:
    """The process-wide trainer (and run cache) for the digits split ``seed``."""
    with _TRAINERS_LOCK:
        if seed not in _TRAINERS:
            _TRAINERS[seed] = _Trainer(datasets.digits(seed=seed))
        return _TRAINERS[seed]


def _kernel_loop():
    """The running kernel's event loop (tornado IOLoop), or None outside a kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return None
    shell = get_ipython()
    return getattr(getattr(shell, "kernel", None), "io_loop", None)


class NetworkTrainingExplorer(Explorer):
    """Training curves and misclassified digits of the lesson-09 network, per setting and epoch."""

    title = "Training a network on the digits"
    instructions = ("Choose a loss, learning rate, batch size and hidden width; a new setting "
                    "trains in the background (the curves grow). Move the epoch slider to see "
                    "any epoch of a run.")
    alt_text = training_figure.ALT_TEXT

    def __init__(self, loss: str = "cross_entropy", lr: float = 0.1, batch_size: int = 32,
                 hidden: int = 32, epoch: int = EPOCHS):
        self._initial = (loss, lr, batch_size, hidden, epoch)
        self._trainer = _trainer(SEED)
        self._digits = self._trainer.digits
        self._val_images = self._digits.images(self._digits.X_val)
        self._loop = _kernel_loop()
        self._scheduled = False
        super().__init__()
        self._trainer.add_listener(self._on_epoch)

    # -- controls and figure ----------------------------------------------------------
    def _build_controls(self):
        loss, lr, batch_size, hidden, epoch = self._initial
        return {
            "loss": dropdown("loss", list(LOSSES), loss),
            "lr": dropdown("learning rate", [(f"{v:g}", v) for v in LEARNING_RATES], lr),
            "batch_size": dropdown("batch size", [(str(v), v) for v in BATCH_SIZES], batch_size),
            "hidden": dropdown("hidden units", [(str(v), v) for v in WIDTHS], hidden),
            "epoch": int_slider("epoch", epoch, 0, EPOCHS),
        }

    def _build_figure(self):
        self._plot = training_figure.build(epochs=EPOCHS)
        return self._plot.figure

    def _changing_artists(self):
        return self._plot.changing_artists()

    # -- state ---------------------------------------------------------------------------
    @property
    def key(self) -> tuple:
        c = self.controls
        return run_key(c["loss"].value, c["lr"].value, c["batch_size"].value, c["hidden"].value)

    def state(self) -> dict:
        run = self._trainer.request(self.key)
        requested = int(self.controls["epoch"].value)
        done = run.epochs_done                       # read once: the thread may append meanwhile
        curves = {name: np.asarray(getattr(run, name)[:done + 1], dtype=float)
                  for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy")}
        shown = min(requested, done)
        s = {"key": self.key, "loss": self.key[0], "lr": self.key[1], "batch_size": self.key[2],
             "hidden": self.key[3], "epoch": requested, "shown_epoch": shown, "epochs_done": done,
             "complete": bool(run.done and done == EPOCHS), "curves": curves, "error": run.error,
             "epoch_to_target": next((e for e, a in enumerate(curves["val_accuracy"])
                                      if a >= training_figure.TARGET), None)}
        if shown < 0:
            s.update(train_loss=np.nan, val_loss=np.nan, train_accuracy=np.nan, val_accuracy=np.nan,
                     misclassified=np.zeros(0, dtype=int), predictions=None)
            return s
        predicted = run.val_predictions[shown]
        s.update({name: float(curves[name][shown]) for name in curves})
        s["predictions"] = predicted
        s["misclassified"] = np.flatnonzero(predicted != self._digits.y_val)
        return s

    def _show(self, s):
        wrong = s["misclassified"][:training_figure.N_SHOWN]
        names = [f"{self._digits.y_val[i]}→{s['predictions'][i]}" for i in wrong]
        self._plot.show(s["curves"], s["shown_epoch"] if s["shown_epoch"] >= 0 else 0,
                        self._val_images[wrong], names)

    def _readout_lines(self, s):
        name = dict((v, k) for k, v in LOSSES)[s["loss"]]
        lines = [f"{name}, learning rate {fmt(s['lr'])}, batch {s['batch_size']}, "
                 f"{s['hidden']} hidden units"]
        if s["error"]:
            return lines + [f"training failed: {s['error']}"]
        if not s["complete"]:
            lines.append(f"training in the background: {max(s['epochs_done'], 0)} of {EPOCHS} epochs done")
        if s["shown_epoch"] < 0:
            return lines + ["(no epoch measured yet)"]
        shown = f"epoch {s['shown_epoch']}" + ("" if s["shown_epoch"] == s["epoch"] else
                                               f" (epoch {s['epoch']} not trained yet)")
        n_val = len(self._digits.y_val)
        target = (f"{training_figure.TARGET:.0%} validation accuracy first at epoch {s['epoch_to_target']}"
                  if s["epoch_to_target"] is not None else
                  f"{training_figure.TARGET:.0%} validation accuracy not reached"
                  + ("" if s["complete"] else " yet"))
        return lines + [
            shown,
            f"training: loss {fmt(s['train_loss'])}, accuracy {fmt(s['train_accuracy'])}",
            f"validation: loss {fmt(s['val_loss'])}, accuracy {fmt(s['val_accuracy'])}",
            target,
            f"misclassified validation digits: {len(s['misclassified'])} of {n_val}",
        ]

    # -- background updates -----------------------------------------------------------------
    def _on_epoch(self, run: Run) -> None:
        """Called from the training thread after each epoch: redraw on the kernel's loop."""
        if run.key != self.key or self._loop is None or self._scheduled:
            return
        self._scheduled = True
        self._loop.add_callback(self._redraw_from_loop)

    def _redraw_from_loop(self) -> None:
        self._scheduled = False
        self.update()

    def wait(self, timeout: float = 120.0) -> "NetworkTrainingExplorer":
        """Finish training the current setting (blocking), then redraw. For tests and scripts."""
        self._trainer.wait(self.key, timeout)
        self.update()
        return self


def network_training(loss: str = "cross_entropy", lr: float = 0.1, batch_size: int = 32,
                     hidden: int = 32, epoch: int = EPOCHS) -> NetworkTrainingExplorer:
    """Explorer of training the lesson-09 network on the digits.

    ``loss`` in {"cross_entropy", "mse"}, ``lr`` in {0.01, 0.03, 0.1, 0.3, 1.0}, ``batch_size``
    in {8, 32, 128, 512}, ``hidden`` in {8, 32, 128}, ``epoch`` in 0..20.
    """
    choices = {"loss": [v for _k, v in LOSSES], "lr": LEARNING_RATES, "batch_size": BATCH_SIZES,
               "hidden": WIDTHS}
    for name, value in (("loss", loss), ("lr", lr), ("batch_size", batch_size), ("hidden", hidden)):
        if value not in choices[name]:
            raise ValueError(f"network_training: {name} must be one of {list(choices[name])}, got {value!r}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= EPOCHS:
        raise ValueError(f"network_training: epoch must be a whole number in 0..{EPOCHS}, got {epoch!r}")
    return NetworkTrainingExplorer(loss, lr, batch_size, hidden, epoch)
