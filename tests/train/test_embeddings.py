"""lossbook.embeddings: forces on paired points, the digits embedding, the KL fit; and the
lesson 11 figures plot what the math computes."""
import numpy as np
import pytest

import lossbook.losses as L
from lossbook import embeddings as E
from lossbook.gradcheck import numeric_gradient


@pytest.mark.parametrize("loss", E.LOSSES)
def test_point_forces_gradient_is_the_numeric_gradient(loss):
    X = E.toy_pairs(4, seed=7)
    value, grad = E.point_forces(X, loss, margin=1.3, temperature=0.4)
    numeric = numeric_gradient(lambda V: E.point_forces(V, loss, margin=1.3, temperature=0.4)[0], X.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)
    assert np.isfinite(value)


def test_point_forces_contrastive_is_lossbook_over_all_pairs():
    X = E.toy_pairs(3, seed=1)
    i, j = np.triu_indices(6, k=1)
    same = ((i ^ 1) == j).astype(float)
    expected = L.contrastive(np.linalg.norm(X[i] - X[j], axis=1), same, margin=0.9)
    assert E.point_forces(X, "contrastive", margin=0.9)[0] == pytest.approx(expected)
    with pytest.raises(ValueError, match="loss must be one of"):
        E.point_forces(X, "hinge")



@pytest.mark.parametrize("loss", E.LOSSES)
def test_point_forces_equals_the_public_validated_losses(loss):
    """The unchecked fast path (the losses' *_terms kernels) gives bit for bit what the
    public, validated losses give, assembled the obvious way."""
    X = E.toy_pairs(5, seed=11)
    n = X.shape[0]
    partner = np.arange(n) ^ 1
    expected = np.zeros_like(X)
    if loss == "contrastive":
        i, j = np.triu_indices(n, k=1)
        d = np.linalg.norm(X[i] - X[j], axis=1)
        same = (partner[i] == j).astype(float)
        value = L.contrastive(d, same, margin=0.7)
        g = L.contrastive_grad(d, same, margin=0.7)
        unit = (X[i] - X[j]) / d[:, None]
        np.add.at(expected, i, g[:, None] * unit)
        np.add.at(expected, j, -g[:, None] * unit)
    elif loss == "triplet":
        anchor, negative = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
        keep = (negative != anchor) & (negative != partner[anchor])
        a, k = anchor[keep], negative[keep]
        value = L.triplet_margin(X[a], X[partner[a]], X[k], margin=0.7)
        for index, g in zip((a, partner[a], k),
                            L.triplet_margin_grad(X[a], X[partner[a]], X[k], margin=0.7)):
            np.add.at(expected, index, g)
    else:
        value = L.info_nce(X, X[partner], temperature=0.3)
        dq, dk = L.info_nce_grad(X, X[partner], temperature=0.3)
        expected += dq
        np.add.at(expected, partner, dk)
    got_value, got = E.point_forces(X, loss, margin=0.7, temperature=0.3)
    assert got_value == value
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((3, 2)), "even number"),
    (np.array([[0.0, np.nan], [1.0, 1.0]]), "X"),
    (np.zeros(4), "shape"),
    ([["a", "b"], ["c", "d"]], "numbers"),
])
def test_point_forces_and_descent_path_check_their_points_once(bad, match):
    for call in (lambda: E.point_forces(bad, "triplet"),
                 lambda: E.descent_path(bad, "triplet", steps=3)):
        with pytest.raises((ValueError, TypeError), match=match):
            call()
    with pytest.raises(ValueError, match="margin"):
        E.descent_path(E.toy_pairs(), "triplet", steps=3, margin=-1.0)
    with pytest.raises(ValueError, match="non-zero"):
        E.point_forces([[0.0, 0.0], [1.0, 0.0]], "info_nce")

def test_descent_path_lowers_the_loss_and_stays_on_the_circle_for_info_nce():
    X = E.toy_pairs()
    for loss in E.LOSSES:
        positions, curve = E.descent_path(X, loss, steps=30, lr=0.5, temperature=0.5)
        assert positions.shape == (31, 10, 2) and curve.shape == (31,)
        assert curve[-1] < curve[0]
    positions, _ = E.descent_path(X, "info_nce", steps=5, temperature=0.2)
    np.testing.assert_allclose(np.linalg.norm(positions, axis=2), 1.0)


def test_samplers():
    y = np.repeat(np.arange(4), 5)
    rng = np.random.default_rng(0)
    a, p, n = E.sample_triplets(y, rng, 200)
    assert (y[a] == y[p]).all() and (a != p).all() and (y[a] != y[n]).all()
    q, k = E.sample_class_pairs(y, rng)
    assert sorted(y[q]) == [0, 1, 2, 3] and (y[q] == y[k]).all() and (q != k).all()


def test_nearest_neighbour_accuracy_matches_sklearn():
    from sklearn.neighbors import KNeighborsClassifier
    rng = np.random.default_rng(2)
    T, yT = rng.normal(size=(60, 2)), rng.integers(0, 3, 60)
    V, yV = rng.normal(size=(25, 2)), rng.integers(0, 3, 25)
    expected = KNeighborsClassifier(n_neighbors=1).fit(T, yT).score(V, yV)
    assert E.nearest_neighbour_accuracy(T, yT, V, yV) == pytest.approx(expected)


def test_train_embedding_learns_and_is_deterministic():
    from lossbook import data
    d = data.digits()
    kw = dict(epochs=4, steps_per_epoch=10, seed=0, validation=(d.X_val, d.y_val))
    for loss in ("triplet", "info_nce"):
        net, hist = E.train_embedding(d.X_train, d.y_train, loss=loss, **kw)
        assert len(hist.loss) == len(hist.val_accuracy) == 5
        assert hist.loss[-1] < hist.loss[0] and hist.val_accuracy[-1] > hist.val_accuracy[0]
        again, _ = E.train_embedding(d.X_train, d.y_train, loss=loss, **kw)
        np.testing.assert_array_equal(net.params["W1"], again.params["W1"])
    with pytest.raises(ValueError, match="'triplet' or 'info_nce'"):
        E.train_embedding(d.X_train, d.y_train, loss="contrastive")


def test_train_embedding_backward_is_the_loss_gradient():
    """The network's parameter gradient from the triplet batch equals a numeric gradient."""
    from lossbook.nn import MLP
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 5)), np.repeat(np.arange(3), 10)
    net = MLP((5, 4, 2), activation="tanh", seed=1)
    value, grads = E._triplet_batch(net, X, y, np.random.default_rng(9), 8, 1.0)

    def cost(W):
        saved = net.params["W1"]
        net.params["W1"] = W
        out = E._triplet_batch(net, X, y, np.random.default_rng(9), 8, 1.0)[0]
        net.params["W1"] = saved
        return out
    np.testing.assert_allclose(grads["W1"], numeric_gradient(cost, net.params["W1"].copy()),
                               rtol=1e-5, atol=1e-8)


def test_forward_kl_covers_and_reverse_kl_seeks():
    x = np.linspace(-6, 6, 241)
    p = E.bimodal_target(x)
    m_f, s_f, kl_f = E.fit_gaussian_kl(x, p, "forward")
    m_r, s_r, kl_r = E.fit_gaussian_kl(x, p, "reverse")
    assert abs(m_f) < 0.05 and s_f > 1.5                   # centred, wide: covers both modes
    assert abs(abs(m_r) - 2.0) < 0.05 and s_r < 0.8        # on one mode, narrow
    # moment matching is the forward-KL optimum for a Gaussian family: the fitted q (on
    # the grid, so truncated at ±6) has p's standard deviation, up to the grid's step
    q_f = E.gaussian_on_grid(x, m_f, s_f)
    sd = lambda w: np.sqrt((x**2 * w).sum() - (x * w).sum() ** 2)  # noqa: E731
    assert sd(q_f) == pytest.approx(sd(p), abs=0.05)
    q = E.gaussian_on_grid(x, m_r, s_r)
    assert kl_r == pytest.approx(L.kl_divergence(q, p))
    with pytest.raises(ValueError, match="'forward' or 'reverse'"):
        E.fit_gaussian_kl(x, p, "both")


def test_lesson11_figures_plot_the_math():
    pytest.importorskip("matplotlib")
    from lossbook.figures.lessons import lesson11_embeddings as F
    fig = F.contrastive_figure(margin=1.0)
    ax = fig.axes[0]
    pull, push = ax.lines[0], ax.lines[1]
    d = pull.get_xdata()
    np.testing.assert_allclose(pull.get_ydata(), d**2)
    np.testing.assert_allclose(push.get_ydata(), np.maximum(0, 1 - d) ** 2)
    fig = F.triplet_figure(d_pos=1.0, margin=0.5)
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), np.maximum(0, 1.0 - line.get_xdata() + 0.5), atol=1e-12)
    fig = F.temperature_figure((1.0, 0.1))
    s = fig.axes[0].lines[1].get_xdata()
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), np.exp((s - 1) / 0.1))
    fig = F.kl_modes_figure()
    assert len(fig.axes[0].lines) == 2
    fig = F.embedding_figure({"a": np.random.default_rng(0).normal(size=(30, 2))}, np.arange(30) % 10)
    assert [t.get_text() for t in fig.axes[0].texts] == [str(k) for k in range(10)]
    for fig in (F.contrastive_figure(), F.kl_modes_figure()):
        ax = fig.axes[0]
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    with pytest.raises(ValueError, match="at least one embedding"):
        F.embedding_figure({}, np.arange(3))
