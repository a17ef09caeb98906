"""Lesson 09, training networks: the softmax cross-entropy gradient of a linear layer, and a
forward and backward pass through a one-hidden-layer ReLU network."""
from __future__ import annotations

import numpy as np

from lossbook import nn
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception

LESSON = "09_training_networks"


# --- references (lossbook.nn, which the tests check against PyTorch) ----------------------


def _linear_net(W, b):
    W = np.asarray(W, dtype=float)
    net = nn.MLP(W.shape)
    net.params = {"W1": W, "b1": np.asarray(b, dtype=float)}
    return net


def _linear_softmax_grad(W, b, X, y):
    _, grads = _linear_net(W, b).loss_and_grads(np.asarray(X, dtype=float), y)
    return grads["W1"], grads["b1"]


def _linear_softmax_cost(W, b, X, y):
    return _linear_net(W, b).loss_and_grads(np.asarray(X, dtype=float), y)[0]


def _mlp_forward_backward(params, X, y):
    W1, W2 = np.asarray(params["W1"], dtype=float), np.asarray(params["W2"], dtype=float)
    net = nn.MLP((W1.shape[0], W1.shape[1], W2.shape[1]))
    net.params = {k: np.asarray(params[k], dtype=float) for k in ("W1", "b1", "W2", "b2")}
    return net.loss_and_grads(np.asarray(X, dtype=float), y)


# --- cases ---------------------------------------------------------------------------------


def _linear_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    X3 = np.array([[1.0, -0.5], [0.0, 2.0], [1.5, 1.0]])
    cases = [
        Case("one example", (np.array([[0.5, -1.0], [2.0, 0.0]]), np.array([0.1, -0.1]),
                             np.array([[1.0, 2.0]]), np.array([1]))),
        Case("zero weights (uniform probabilities)", (np.zeros((2, 3)), np.zeros(3), X3, np.array([0, 2, 1]))),
        Case("one feature", (np.array([[1.0, -1.0, 0.5]]), np.array([0.0, 0.5, -0.5]),
                             np.array([[0.3], [-1.2], [2.0], [0.0]]), np.array([2, 0, 1, 1]))),
        Case("large scores (about 1000)", (np.array([[400.0, -300.0], [-200.0, 500.0]]), np.zeros(2),
                                           np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([1, 1]))),
        Case("square W (as many features as classes)", (rng.normal(size=(3, 3)), rng.normal(size=3),
                                                        rng.normal(size=(5, 3)), np.array([0, 1, 2, 2, 0]))),
    ]
    for n, d, k in ((4, 3, 2), (7, 5, 4), (13, 2, 6)):
        cases.append(Case(f"random, {n} examples x {d} features x {k} classes",
                          (rng.normal(size=(d, k)), rng.normal(size=k), rng.normal(size=(n, d)),
                           rng.integers(0, k, n))))
    return cases


def _params(rng, d, h, k, scale=1.0):
    return {"W1": rng.normal(scale=scale, size=(d, h)), "b1": rng.normal(scale=0.5, size=h),
            "W2": rng.normal(scale=scale, size=(h, k)), "b2": rng.normal(scale=0.5, size=k)}


def _mlp_cases(seed: int) -> list[Case]:
    rng = np.random.default_rng(seed)
    dead = _params(rng, 3, 4, 3)
    dead["b1"] = np.full(4, -100.0)          # every hidden unit off: relu passes nothing back
    cases = [
        Case("one example", (_params(rng, 2, 3, 2), np.array([[0.5, -1.5]]), np.array([1]))),
        Case("every hidden unit off (dead ReLUs)", (dead, rng.normal(size=(4, 3)), np.array([0, 1, 2, 0]))),
        Case("zero output weights (uniform probabilities)",
             ({**_params(rng, 3, 4, 3), "W2": np.zeros((4, 3)), "b2": np.zeros(3)},
              rng.normal(size=(5, 3)), np.array([2, 0, 1, 1, 0]))),
        Case("large scores", (_params(rng, 2, 3, 3, scale=30.0), rng.normal(size=(4, 2)), np.array([0, 2, 1, 0]))),
        Case("square layers (all sizes equal)", (_params(rng, 3, 3, 3), rng.normal(size=(6, 3)),
                                                  np.array([0, 1, 2, 0, 1, 2]))),
    ]
    for n, d, h, k in ((5, 4, 6, 3), (9, 3, 5, 4), (13, 6, 4, 5)):
        cases.append(Case(f"random, {n} examples, {d} -> {h} -> {k}",
                          (_params(rng, d, h, k), rng.normal(size=(n, d)), rng.integers(0, k, n))))
    return cases


# --- misconceptions -------------------------------------------------------------------------


def _softmax(S, axis=1):
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True)


def _linear_variant(*, no_n=False, sign=1.0, no_onehot=False, transposed=False, db_no_n=False, axis=1):
    def grad(W, b, X, y):
        X = np.asarray(X, dtype=float)
        n, k = X.shape[0], np.shape(W)[1]
        P = _softmax(X @ W + b, axis=axis)
        D = P if no_onehot else P - nn.one_hot(y, k)
        D = sign * D / (1 if no_n else n)
        dW = D.T @ X if transposed else X.T @ D
        db = D.sum(axis=0) * (n if db_no_n else 1)
        return dW, db
    return grad


def _mlp_variant(*, no_mask=False, sum_loss=False, no_n=False, db_mean=False, mask_on_hidden_input=False):
    def forward_backward(params, X, y):
        X = np.asarray(X, dtype=float)
        W1, b1, W2, b2 = (np.asarray(params[k], dtype=float) for k in ("W1", "b1", "W2", "b2"))
        n = X.shape[0]
        Z1 = X @ W1 + b1
        H = np.maximum(Z1, 0)
        S = H @ W2 + b2
        shifted = S - S.max(axis=1, keepdims=True)
        log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        losses = -log_P[np.arange(n), y]
        loss = float(losses.sum() if sum_loss else losses.mean())
        dS = (np.exp(log_P) - nn.one_hot(y, S.shape[1])) / (1 if no_n else n)
        dH = dS @ W2.T
        dZ1 = dH if no_mask else dH * (X @ W1 > 0 if mask_on_hidden_input else Z1 > 0)
        reduce = (lambda D: D.mean(axis=0)) if db_mean else (lambda D: D.sum(axis=0))
        return loss, {"W1": X.T @ dZ1, "b1": reduce(dZ1), "W2": H.T @ dS, "b2": reduce(dS)}
    return forward_backward


LINEAR_SOFTMAX_GRAD = Exercise(
    id="linear_softmax_grad",
    title="Gradient of softmax cross-entropy for a linear layer",
    lesson=LESSON,
    params="W, b, X, y",
    docstring="""Gradients (dW, db) of the mean softmax cross-entropy of the scores S = X @ W + b.

L = -(1/n) sum_i log softmax(S_i)[y_i]. With P = softmax(S) row by row and Y the one-hot labels:
    dS = (P - Y) / n,    dW = X.T @ dS,    db = dS summed over the examples

Parameters
----------
W : numpy array, shape (n_features, n_classes);  b : numpy array, shape (n_classes,)
X : numpy array, shape (n, n_features);  y : integer labels 0..n_classes-1, shape (n,)

Returns
-------
(dW, db) : numpy arrays shaped like W and b""",
    reference=_linear_softmax_grad,
    output="tuple",
    parts=("dW", "db"),
    build_cases=lambda: _linear_cases(901),
    count=lambda case: len(case.args[2]),
    gradient=GradientSpec(cost=_linear_softmax_cost, wrt=0, extract=lambda args, out: out[0]),
    hints=(
        "Work with the scores S = X @ W + b first: the gradient of the mean cross-entropy with respect to S is "
        "simple, and the chain rule carries it back to W and b through one matrix product.",
        "dL/dS = (P - Y)/n, where P = softmax(S) (subtract each row's maximum before exp) and Y is one-hot. "
        "Then dW = Xᵀ (dL/dS), of shape (n_features, n_classes), and db sums dL/dS over the rows.",
        "S = X @ W + b;  P = stable softmax of S along axis=1;  dS = P.copy(); dS[np.arange(n), y] -= 1; "
        "dS /= n;  return X.T @ dS, ___   (the blank: the bias gradient, one number per class)",
    ),
    misconceptions=(
        Misconception("no n", _linear_variant(no_n=True),
                      "gradient not divided by n: the cost is a mean over the n examples, so dS = (P − Y)/n",
                      reteach='The cost averages over n examples: dS = (P − Y)/n, and dW, db inherit the 1/n.',
                      section='09_training_networks: A network, forward and backward',
                      explorer='network_training'),
        Misconception("sign", _linear_variant(sign=-1.0),
                      "gradient has the wrong sign: the gradient of the cross-entropy with respect to the scores "
                      "is P − Y (probabilities minus one-hot), not Y − P",
                      reteach='dS = P − Y (prediction minus target); check one weight with a finite difference.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("no one-hot", _linear_variant(no_onehot=True),
                      "the one-hot labels are missing: dS is P − Y; subtract 1 at each example's true class",
                      reteach='Turn the labels into a one-hot Y and subtract it: the true class gets p − 1.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("transposed", _linear_variant(transposed=True),
                      "dW is transposed: Xᵀ (P − Y) has one row per feature and one column per class, like W",
                      reteach="Check shapes: dW must have W's shape (features × classes), so it is Xᵀ(P − Y).",
                      section='09_training_networks: A network, forward and backward'),
        Misconception("db no n", _linear_variant(db_no_n=True),
                      "db is not divided by n (dW is): the bias gradient is (P − Y)/n summed over the examples",
                      reteach='db sums dS over the examples, and dS already carries the 1/n; both dW and db are of the mean.',
                      section='09_training_networks: A network, forward and backward'),
        Misconception("softmax axis", _linear_variant(axis=0),
                      "softmax over the wrong axis: each example's probabilities (a row of S) must sum to 1; "
                      "use axis=1",
                      reteach="Each example's probabilities are a row of S: softmax over axis=1, rows summing to 1.",
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
    ),
    solution='''def linear_softmax_grad(W, b, X, y):
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    S = X @ W + b
    S = S - S.max(axis=1, keepdims=True)            # stable: exp never overflows
    P = np.exp(S) / np.exp(S).sum(axis=1, keepdims=True)
    dS = P.copy()
    dS[np.arange(n), y] -= 1                         # P - Y
    dS /= n
    return X.T @ dS, dS.sum(axis=0)
''',
    forbidden=(
        "lossbook.losses.softmax_cross_entropy_grad",
        "lossbook.nn.MLP.backward",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)


MLP_FORWARD_BACKWARD = Exercise(
    id="mlp_forward_backward",
    title="Forward and backward pass of a one-hidden-layer network",
    lesson=LESSON,
    params="params, X, y",
    docstring="""Loss and gradients of a network with one hidden ReLU layer and softmax cross-entropy.

Forward:   hidden = relu(X @ W1 + b1),   scores = hidden @ W2 + b2,
           loss = mean over the n examples of -log softmax(scores_i)[y_i]
Backward:  dscores = (P - Y) / n, then the chain rule down through W2, the ReLU and W1.

Parameters
----------
params : dict with keys "W1" (d, h), "b1" (h,), "W2" (h, K), "b2" (K,)
X : numpy array, shape (n, d);  y : integer labels 0..K-1, shape (n,)

Returns
-------
(loss, grads) : a float and a dict with the keys of params, each gradient shaped like its parameter""",
    reference=_mlp_forward_backward,
    output="tuple",
    parts=("loss", "grads"),
    build_cases=lambda: _mlp_cases(902),
    count=lambda case: len(case.args[1]),
    hints=(
        "Keep what the forward pass computes (the pre-activation, the hidden layer, the probabilities): the "
        "backward pass reuses each of them, going through the layers in reverse order.",
        "dscores = (P - Y)/n;  dW2 = hiddenᵀ dscores,  db2 = column sums of dscores;  dhidden = dscores W2ᵀ; "
        "the ReLU passes the gradient only where its input was positive: dZ1 = dhidden ⊙ [Z1 > 0];  "
        "dW1 = Xᵀ dZ1,  db1 = column sums of dZ1.",
        "Z1 = X @ W1 + b1; hidden = np.maximum(Z1, 0); scores = hidden @ W2 + b2; ... dscores = (P - Y) / n; "
        "dZ1 = (dscores @ W2.T) * ___;  return loss, {'W1': X.T @ dZ1, 'b1': dZ1.sum(axis=0), 'W2': ..., 'b2': ...}",
    ),
    misconceptions=(
        Misconception("no relu mask", _mlp_variant(no_mask=True),
                      "the backward pass skips the ReLU: its gradient is 0 where the pre-activation X @ W1 + b1 "
                      "was negative, so multiply by (Z1 > 0) before going down to W1 and b1",
                      reteach='Backpropagate through ReLU: its derivative is 1 where the pre-activation was > 0 and 0 elsewhere, so mask by (Z1 > 0).',
                      section='09_training_networks: A network, forward and backward',
                      explorer='network_training'),
        Misconception("sum loss", _mlp_variant(sum_loss=True),
                      "the loss is a sum, not a mean: average the per-example cross-entropies over the n examples",
                      reteach='The loss is the mean cross-entropy over the n examples (a negative log-likelihood per example, averaged).',
                      section='09_training_networks: A loss is a negative log-likelihood'),
        Misconception("no n", _mlp_variant(no_n=True),
                      "gradients not divided by n: the loss is a mean, so dscores = (P − Y)/n, and every gradient "
                      "below inherits the 1/n",
                      reteach='Start the backward pass with dscores = (P − Y)/n; every gradient below inherits the 1/n.',
                      section='09_training_networks: A network, forward and backward'),
        Misconception("bias mean", _mlp_variant(db_mean=True),
                      "the bias gradients are divided by n twice: dscores already carries the 1/n, so db2 and db1 "
                      "are plain sums over the examples",
                      reteach='dscores already has the 1/n: db2 and db1 are plain sums over examples, not means.',
                      section='09_training_networks: A network, forward and backward'),
        Misconception("mask without bias", _mlp_variant(mask_on_hidden_input=True),
                      "the ReLU mask ignores b1: the unit was active where X @ W1 + b1 > 0, bias included",
                      reteach="The unit's pre-activation is X @ W1 + b1: the mask must use it, bias included.",
                      section='09_training_networks: A network, forward and backward'),
    ),
    solution='''def mlp_forward_backward(params, X, y):
    X = np.asarray(X, dtype=float)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = X.shape[0]
    # forward
    Z1 = X @ W1 + b1
    hidden = np.maximum(Z1, 0)
    scores = hidden @ W2 + b2
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_P[np.arange(n), y].mean()
    # backward
    dscores = np.exp(log_P)
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dhidden = dscores @ W2.T
    dZ1 = dhidden * (Z1 > 0)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": hidden.T @ dscores, "b2": dscores.sum(axis=0)}
    return float(loss), grads
''',
    forbidden=(
        "lossbook.nn.MLP.loss_and_grads",
        "lossbook.nn.MLP.backward",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)

EXERCISES = (LINEAR_SOFTMAX_GRAD, MLP_FORWARD_BACKWARD)
