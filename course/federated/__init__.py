"""Federated learning: FedAvg across simulated hospitals whose scanners differ.

Hospitals rarely may share patient images, but they may share *model weights*. In federated
averaging (FedAvg, McMahan et al. 2017) a server sends the global weights :math:`w^t` to the
:math:`K` sites; each site trains them for a few local epochs on its own :math:`n_k` images
and sends back :math:`w_k^{t+1}`; the server averages, weighting each site by its size:

.. math::

    w^{t+1} = \\sum_{k=1}^{K} \\frac{n_k}{n}\\, w_k^{t+1}, \\qquad n = \\sum_{k=1}^{K} n_k .

The images never leave the sites: only the weights travel (which is not, by itself, a privacy
guarantee: weights and updates can leak information about the training data, which is why real
deployments add secure aggregation or differential privacy; Kaissis et al. 2020, Rieke et al.
2020).

The data: small patches of synthetic CT slices (:func:`course.physics.phantoms.random_phantom`),
centred on a lesion (label 1) or on lesion-free soft tissue (label 0), as in the false-positive
reduction step of a nodule detector. Each site acquires them with its own :class:`Scanner`, a
caricature of what differs between hospitals: an intensity scale (``gain``) and ``offset``
(calibration, reconstruction and export settings), noise (dose) and blur (reconstruction kernel).
A model trained at one site meets the others' images as a *domain shift*.

Two modules, every public name importable from :mod:`course.federated`:

* :mod:`course.federated.sites` - the hospitals: :func:`make_sites` gives :class:`Site` objects
  with training and test patches (:func:`lesion_patches`), each acquired by its
  :class:`Scanner` (:func:`acquire`); :func:`pooled` concatenates the sites' data;
* :mod:`course.federated.training` - the model (:func:`small_cnn`, :class:`Standardise`),
  :func:`local_train` (a few epochs of Adam at one site), :func:`fedavg` (the weighted average
  of state dicts), :func:`federated_training` and its two baselines,
  :func:`centralised_training` (all data pooled in one place) and :func:`local_only_training`
  (each site alone), all three run by :func:`compare_training` with the same number of passes
  over each site's data; :func:`predict_proba`, :func:`accuracy` and
  :func:`cross_site_accuracy` (every model on every site).

Shapes: images ``(N, 1, P, P)`` float32 tensors, labels ``(N,)`` int64 tensors.

References: McMahan, H. B., Moore, E., Ramage, D., Hampson, S. & Agüera y Arcas, B. (2017).
Communication-efficient learning of deep networks from decentralized data. AISTATS, PMLR 54,
1273-1282. Rieke, N. et al. (2020). The future of digital health with federated learning.
npj Digital Medicine 3, 119. Kaissis, G. A., Makowski, M. R., Rückert, D. & Braren, R. F.
(2020). Secure, privacy-preserving and federated machine learning in medical imaging. Nature
Machine Intelligence 2, 305-311.

>>> import torch
>>> a = {"w": torch.tensor([0.0, 2.0])}
>>> b = {"w": torch.tensor([4.0, 6.0])}
>>> fedavg([a, b], weights=[300, 100])["w"]  # 0.75 * a + 0.25 * b
tensor([1., 3.])
"""

from course.federated.sites import (
    SCANNERS,
    Scanner,
    Site,
    acquire,
    lesion_patches,
    make_sites,
    pooled,
)
from course.federated.training import (
    Standardise,
    accuracy,
    centralised_training,
    compare_training,
    cross_site_accuracy,
    fedavg,
    federated_training,
    local_only_training,
    local_train,
    predict_proba,
    small_cnn,
)

__all__ = [
    "Scanner",
    "SCANNERS",
    "Site",
    "lesion_patches",
    "acquire",
    "make_sites",
    "pooled",
    "Standardise",
    "small_cnn",
    "local_train",
    "fedavg",
    "federated_training",
    "centralised_training",
    "local_only_training",
    "compare_training",
    "predict_proba",
    "accuracy",
    "cross_site_accuracy",
]
