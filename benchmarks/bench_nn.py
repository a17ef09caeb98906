"""One training epoch of the lesson-09 network in lossbook.nn beside the same network in PyTorch CPU,
and the epochs of lesson 09's cross-entropy-vs-squared-error race. Printed, not asserted.

The network: 64 → 32 ReLU → 10, softmax cross-entropy, mini-batch SGD (lr 0.05, momentum
0.9), batches of 32 over the 1,078 training digits, the same shuffled order for both. Both
run on one thread (lossbook.nn limits BLAS to one thread while training; torch gets
``torch.set_num_threads(1)``), and torch also with its default thread count. Times are
the median over repeated epochs (evaluation excluded), after a warm-up epoch.

Goal (issue 11): lossbook.nn's epoch ≤ 1.5 × torch's.

Run: ``.venv/bin/python benchmarks/bench_nn.py [--repeats 15]``
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from lossbook import data, nn  # noqa: E402

GOAL = 1.5
HIDDEN, LR, MOMENTUM, BATCH = 32, 0.05, 0.9, 32


def _batches(n, seed):
    order = np.random.default_rng(seed).permutation(n)
    return [order[i:i + BATCH] for i in range(0, n, BATCH)]


def lossbook_epoch_seconds(digits, dtype, repeats):
    net = nn.MLP((64, HIDDEN, 10), seed=0, dtype=dtype)
    optimizer = nn.SGD(LR, momentum=MOMENTUM)
    X, y = digits.X_train.astype(dtype), digits.y_train
    times = []
    with nn.one_blas_thread():
        for epoch in range(repeats + 1):
            batches = _batches(len(X), epoch)
            start = time.perf_counter()
            for batch in batches:
                _, grads = net.loss_and_grads(X[batch], y[batch])
                optimizer.step(net.params, grads)
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def torch_epoch_seconds(torch, digits, dtype, repeats, threads):
    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        torch_dtype = torch.float64 if dtype == "float64" else torch.float32
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(64, HIDDEN), torch.nn.ReLU(),
                                    torch.nn.Linear(HIDDEN, 10)).to(torch_dtype)
        optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        loss_fn = torch.nn.CrossEntropyLoss()
        X = torch.from_numpy(digits.X_train.astype(dtype))
        y = torch.from_numpy(digits.y_train)
        times = []
        for epoch in range(repeats + 1):
            batches = [torch.from_numpy(b) for b in _batches(len(X), epoch)]
            start = time.perf_counter()
            for batch in batches:
                optimizer.zero_grad()
                loss_fn(model(X[batch]), y[batch]).backward()
                optimizer.step()
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:])
    finally:
        torch.set_num_threads(previous)


def race_table(digits):
    from lossbook.figures.lessons.lesson09_training_networks import race

    rows = []
    for output_scale in (1.0, 10.0):
        for lr in (0.03, 0.1, 0.3):
            start = time.perf_counter()
            histories = race(digits, lr=lr, epochs=20, output_scale=output_scale)
            seconds = time.perf_counter() - start
            found = {loss: nn.epochs_to_accuracy(h, 0.9) for loss, h in histories.items()}
            final = {loss: h.val_accuracy[-1] for loss, h in histories.items()}
            rows.append((output_scale, lr, found, final, seconds))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    digits = data.digits()
    try:
        load = "%.1f" % os.getloadavg()[0]
    except OSError:
        load = "?"
    print(f"One epoch of 64 -> {HIDDEN} ReLU -> 10, CE, SGD(lr {LR}, momentum {MOMENTUM}), batch {BATCH}, "
          f"{len(digits.y_train)} digits; median of {args.repeats} epochs; load average {load}")
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: lossbook.nn only (pip install torch --index-url "
              "https://download.pytorch.org/whl/cpu for the comparison)")
    print(f"{'dtype':8s} {'lossbook.nn ms':>15s} {'torch 1 thread ms':>18s} {'ratio':>6s} "
          f"{'torch default ms':>17s} {'goal':>8s}")
    for dtype in ("float64", "float32"):
        ours = lossbook_epoch_seconds(digits, dtype, args.repeats)
        if torch is None:
            print(f"{dtype:8s} {ours * 1e3:15.2f}")
            continue
        one = torch_epoch_seconds(torch, digits, dtype, args.repeats, threads=1)
        default = torch_epoch_seconds(torch, digits, dtype, args.repeats, threads=None)
        ratio = ours / one
        print(f"{dtype:8s} {ours * 1e3:15.2f} {one * 1e3:18.2f} {ratio:6.2f} {default * 1e3:17.2f} "
              f"{'met' if ratio <= GOAL else 'MISSED':>8s}")
    print()
    print("The lesson-09 race: epochs until validation accuracy first reaches 90% (None: not in 20 epochs);")
    print("64 -> 32 ReLU -> 10, plain SGD, batch 64, same initial weights per row; 'start x10' scales the")
    print("last layer's initial weights by 10 (a saturated start).")
    print(f"{'start':>8s} {'lr':>5s} {'cross-entropy':>14s} {'squared error':>14s} "
          f"{'final acc CE / SE':>18s} {'seconds':>8s}")
    for output_scale, lr, found, final, seconds in race_table(digits):
        print(f"{'x' + format(output_scale, 'g'):>8s} {lr:5g} {str(found['cross_entropy']):>14s} "
              f"{str(found['mse']):>14s} {final['cross_entropy']:8.3f} / {final['mse']:.3f} {seconds:8.2f}")


if __name__ == "__main__":
    main()
