"""Loss functions and their gradients (numpy only).

Every loss takes the arrays first, the targets before the predictions
(``loss(y_true, y_pred)``), then its options **by keyword only**
(``huber(y_true, y_pred, *, delta=1.0, reduction="mean")``), with
``reduction="mean" | "sum" | "none"``; its gradient with respect to the prediction is
``<loss>_grad`` with the same signature. Names carry no ``_loss`` suffix. See the
sub-modules for the formulas:

- :mod:`lossbook.losses.regression`: ``mse``, ``mae``, ``huber``, ``log_cosh``, ``quantile``
- :mod:`lossbook.losses.classification`: ``binary_cross_entropy`` (+ ``_with_logits``),
  ``cross_entropy``, ``softmax_cross_entropy``, ``sigmoid``, ``softmax``, ``log_softmax``
- :mod:`lossbook.losses.margin`: ``hinge``, ``squared_hinge``, ``multiclass_hinge``
- :mod:`lossbook.losses.robust`: ``focal``, ``focal_with_logits``, ``barron``
- :mod:`lossbook.losses.embedding`: ``contrastive``, ``triplet_margin``, ``info_nce``,
  ``margin_ranking``, ``pairwise_logistic`` (their own argument conventions, see there)
- :mod:`lossbook.losses.divergence`: ``kl_divergence``

Coming from PyTorch
-------------------
- **Argument order is reversed**: ``torch.nn.functional.mse_loss(input, target)`` takes the
  prediction first, ``lossbook.losses.mse(y_true, y_pred)`` the target first. Options
  (``reduction``, ``delta``, ``weight``, ...) are keyword-only in both, with the same
  ``reduction`` names.
- **Logits or probabilities**: the name says which. ``*_with_logits`` and
  ``softmax_cross_entropy`` take logits (raw scores), as torch's ``cross_entropy`` and
  ``binary_cross_entropy_with_logits`` do; ``binary_cross_entropy``, ``cross_entropy``
  and ``focal`` take probabilities. Note the trap: torch's ``cross_entropy`` (logits) is
  lossbook's ``softmax_cross_entropy``, lossbook's ``cross_entropy`` (probabilities) is
  torch's ``nll_loss(torch.log(p), y)``.
- **Gradients**: ``<loss>_grad(y_true, y_pred)`` is what ``x.grad`` holds after
  ``loss(x, y).backward()`` (for ``reduction="none"``: the gradient of the sum).

=====================================  =========================================================
lossbook.losses                        PyTorch (``F = torch.nn.functional``)
=====================================  =========================================================
``mse(y, p)``                          ``F.mse_loss(p, y)``
``mae(y, p)``                          ``F.l1_loss(p, y)``
``huber(y, p, delta=d)``               ``F.huber_loss(p, y, delta=d)``; ``F.smooth_l1_loss(p, y,
                                       beta=d)`` is ``huber(y, p, delta=d) / d``
``log_cosh``, ``quantile(q=)``         none (``torch.log(torch.cosh(p - y))``; pinball in ops)
``binary_cross_entropy(y, p)``         ``F.binary_cross_entropy(p, y)`` (probabilities; torch
                                       clamps each log at −100, lossbook clips p to
                                       [1e-12, 1 − 1e-12], in float32 to [1e-12, 1 − 2⁻²⁴])
``binary_cross_entropy_with_logits     ``F.binary_cross_entropy_with_logits(z, y,
(y, z, pos_weight=w)``                 pos_weight=w)`` (logits)
``softmax_cross_entropy(y, z,          ``F.cross_entropy(z, y, weight=w, label_smoothing=e)``
weight=w, label_smoothing=e)``         (logits; class indices or probability rows; the same
                                       weighted mean for ``reduction="mean"``)
``cross_entropy(y, p)``                ``F.nll_loss(torch.log(p), y)`` (probabilities)
``multiclass_hinge(y, s, margin=m)``   ``C * F.multi_margin_loss(s, y, margin=m)``: torch
                                       divides the sum over wrong classes by the class count C
``hinge``, ``squared_hinge``           none (``torch.clamp(1 - y * s, min=0)``; labels ±1)
``focal_with_logits(y, z, gamma=g,     ``torchvision.ops.sigmoid_focal_loss(z, y, alpha=a,
alpha=a)``                             gamma=g, reduction="mean")``; ``alpha=None`` is
                                       torchvision's ``alpha=-1`` (its default is 0.25)
``focal(y, p)``, ``barron``            none
``softmax(z, axis=k)``                 ``torch.softmax(z, dim=k)``
=====================================  =========================================================
"""
from lossbook.losses import classification, margin, regression, robust
from lossbook.losses.classification import *  # noqa: F401,F403
from lossbook.losses.margin import *  # noqa: F401,F403
from lossbook.losses.regression import *  # noqa: F401,F403
from lossbook.losses.robust import *  # noqa: F401,F403
from lossbook.losses.robust import focal_loss, focal_loss_grad  # noqa: F401 (deprecated)
from lossbook.losses import divergence, embedding
from lossbook.losses.divergence import *  # noqa: F401,F403
from lossbook.losses.embedding import *  # noqa: F401,F403

__all__ = [
    *regression.__all__, *classification.__all__, *margin.__all__, *robust.__all__,
    *embedding.__all__, *divergence.__all__,
]
