"""Neural network architectures of the course: small CNN classifiers and the U-Net.

- :mod:`course.models.cnn`: :class:`SimpleCNN` (LeNet-style), :func:`count_parameters`,
  :func:`layer_table` and :func:`summary` (works on any :class:`torch.nn.Module`, e.g. the
  torchvision architectures built with ``weights=None``);
- :mod:`course.models.unet`: :class:`UNet` (2D and 3D) and its :class:`ConvBlock`.
- :mod:`course.models.vit`: a tiny :class:`VisionTransformer` and :func:`vit_parameter_count`.

>>> from course.models import UNet, count_parameters
>>> count_parameters(UNet(1, 1, depth=4, base_channels=16))
1943761
"""

from course.models.cnn import SimpleCNN, count_parameters, layer_table, summary
from course.models.unet import ConvBlock, UNet
from course.models.vit import VisionTransformer, vit_parameter_count

__all__ = ["ConvBlock", "SimpleCNN", "UNet", "count_parameters", "layer_table", "summary"]
__all__ += ["VisionTransformer", "vit_parameter_count"]
