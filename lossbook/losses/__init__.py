"""Loss functions and their gradients (numpy only).

Every loss takes ``(y_true, y_pred)`` and ``reduction="mean" | "sum" | "none"``;
its gradient with respect to the prediction is ``<loss>_grad`` with the same
signature. See the sub-modules for the formulas:

- :mod:`lossbook.losses.regression`: ``mse``, ``mae``, ``huber``, ``log_cosh``, ``quantile``
- :mod:`lossbook.losses.classification`: ``binary_cross_entropy`` (+ ``_with_logits``),
  ``cross_entropy``, ``softmax_cross_entropy``, ``sigmoid``, ``softmax``, ``log_softmax``
- :mod:`lossbook.losses.margin`: ``hinge``, ``squared_hinge``, ``multiclass_hinge``
- :mod:`lossbook.losses.robust`: ``focal_loss``, ``barron``
- :mod:`lossbook.losses.embedding`: ``contrastive``, ``triplet_margin``, ``info_nce``,
  ``margin_ranking``, ``pairwise_logistic`` (their own argument conventions, see there)
- :mod:`lossbook.losses.divergence`: ``kl_divergence``
"""
from lossbook.losses import classification, margin, regression, robust
from lossbook.losses.classification import *  # noqa: F401,F403
from lossbook.losses.margin import *  # noqa: F401,F403
from lossbook.losses.regression import *  # noqa: F401,F403
from lossbook.losses.robust import *  # noqa: F401,F403
from lossbook.losses import divergence, embedding
from lossbook.losses.divergence import *  # noqa: F401,F403
from lossbook.losses.embedding import *  # noqa: F401,F403

__all__ = [
    *regression.__all__, *classification.__all__, *margin.__all__, *robust.__all__,
    *embedding.__all__, *divergence.__all__,
]
