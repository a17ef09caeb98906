"""Lesson 10 explorer: threshold, class weight or γ, and temperature, moved together.

The task is lesson 10's "is it a 9?" (about 10% positives) on the digits. A drop-down
picks how the network was trained (cross-entropy, with a weight on the positives, or
focal loss with a γ); the networks are trained once, when the explorer is built. The
threshold slider turns probabilities into decisions (confusion matrix, the point on the
precision-recall curve); the temperature slider rescales the logits, ``p = σ(z / T)``,
which moves the reliability diagram and, at a fixed threshold, the decisions too. Every
number is measured on the validation images (the test images stay for the end).
"""
from __future__ import annotations

import numpy as np

from lossbook import calibration as calib
from lossbook import losses
from lossbook.explorers.base import Explorer, dropdown, float_slider, fmt
from lossbook.figures.calibration import ALT_TEXT as CALIBRATION_ALT_TEXT, CalibrationFigure, pr_curve
from lossbook.figures.reliability import ece_of_bins

__all__ = ["CalibrationExplorer", "calibration", "TRAININGS"]

#: Drop-down label -> (loss name, its parameter): how each network is trained.
TRAININGS = {
    "cross-entropy": ("bce", 1.0),
    "cross-entropy, pos_weight 9": ("bce", 9.0),
    "focal loss, γ = 2": ("focal", 2.0),
    "focal loss, γ = 5": ("focal", 5.0),
}


def _loss_object(kind: str, value: float):
    from lossbook import nn

    if kind == "bce":
        return nn.BinaryCrossEntropy(pos_weight=value)
    return calib.FocalWithLogits(gamma=value, alpha=None)


def validation_logits(epochs: int = 15, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Labels of the validation images and each training's logits on them."""
    from lossbook import data

    binary = data.digits().one_vs_rest(9)
    logits = {}
    for label, (kind, value) in TRAININGS.items():
        net = calib.train_digits(binary.X_train, binary.y_train, loss=_loss_object(kind, value),
                                       hidden=16, epochs=epochs, batch_size=64, lr=0.01,
                                       seed=seed)
        logits[label] = net.scores(binary.X_val)[:, 0]
    return binary.y_val, logits


class CalibrationExplorer(Explorer):
    """One imbalanced binary classifier: decisions, precision/recall and calibration together."""

    title = "When the metric is not the loss: threshold, weights, temperature"
    instructions = ("Pick how the network was trained, then move the threshold and the temperature. "
                    "Which numbers move with each control, and which stay put?")
    alt_text = CALIBRATION_ALT_TEXT

    def __init__(self, training: str = "cross-entropy", threshold: float = 0.5,
                 temperature: float = 1.0, *, epochs: int = 15):
        self._initial = (training, threshold, temperature)
        self.y, self.logits = validation_logits(epochs=epochs)
        super().__init__()

    def _build_controls(self):
        training, threshold, temperature = self._initial
        return {
            "training": dropdown("trained with", list(TRAININGS), training),
            # temperature first: the keyboard's first slider, and every step of it moves
            # the reliability diagram (a small threshold step may change no decision)
            "temperature": float_slider("temperature T", temperature, 0.25, 4.0, 0.05),
            "threshold": float_slider("threshold", threshold, 0.01, 0.99, 0.01),
        }

    def _build_figure(self):
        self._plot = CalibrationFigure()
        return self._plot.figure

    def state(self) -> dict:
        training = self.controls["training"].value
        threshold = float(self.controls["threshold"].value)
        temperature = float(self.controls["temperature"].value)
        z = self.logits[training]
        proba = losses.sigmoid(z / temperature)
        counts = calib.binary_counts(self.y, proba, threshold)
        from lossbook import metrics

        # One binning serves the bars and the ECE (the same float as
        # metrics.expected_calibration_error, without validating and binning twice).
        bins = metrics.reliability_bins(self.y, np.column_stack([1 - proba, proba]),
                                        n_bins=self._plot.reliability.n_bins)
        return {
            "training": training, "threshold": threshold, "temperature": temperature,
            "logits": z, "proba": proba, "counts": counts, "bins": bins,
            "pr_curve": self._pr_curve(training),
            "ece": ece_of_bins(bins),
            "nll": calib.temperature_nll(z, self.y, temperature),
            "logit_cut": temperature * float(np.log(threshold / (1 - threshold))),
        }

    def _pr_curve(self, training: str):
        """The PR curve of a training's scores: it depends on neither slider, so once each."""
        cache = self.__dict__.setdefault("_pr_curves", {})
        if training not in cache:
            cache[training] = pr_curve(self.y, self.logits[training])
        return cache[training]

    def _show(self, s):
        self._plot.show_numbers(s["counts"], s["pr_curve"], s["bins"])

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        c = s["counts"]
        return [
            f"{s['training']}: threshold {fmt(s['threshold'])}, T = {fmt(s['temperature'])}",
            f"decide 'a 9' when the logit z ≥ T·log(t/(1−t)) = {fmt(s['logit_cut'])}",
            f"TP {c.tp}, FP {c.fp}, FN {c.fn}, TN {c.tn}",
            f"precision {fmt(c.precision)}, recall {fmt(c.recall)}, F1 {fmt(c.f1)}",
            f"accuracy {fmt(c.accuracy)} (always 'not 9': {fmt(1 - float(np.mean(self.y)))})",
            f"ECE {fmt(s['ece'])}, cross-entropy {fmt(s['nll'])}",
        ]


def calibration(training: str = "cross-entropy", threshold: float = 0.5,
                temperature: float = 1.0, *, epochs: int = 15) -> CalibrationExplorer:
    """Explorer of thresholds, class weights / focal γ and temperature (lesson 10).

    ``training`` is one of :data:`TRAININGS`; ``threshold`` in [0.01, 0.99], ``temperature``
    in [0.25, 4] (the controls' ranges). Building it trains four small networks for
    ``epochs`` epochs each (a few seconds).
    """
    if training not in TRAININGS:
        raise ValueError(f"calibration: training must be one of {list(TRAININGS)}, got {training!r}")
    for name, value, low, high in (("threshold", threshold, 0.01, 0.99),
                                   ("temperature", temperature, 0.25, 4.0)):
        if not low <= value <= high:
            raise ValueError(f"calibration: {name} must be between {low:g} and {high:g} "
                             f"(the slider's range), got {value!r}")
    return CalibrationExplorer(training, threshold, temperature, epochs=epochs)
