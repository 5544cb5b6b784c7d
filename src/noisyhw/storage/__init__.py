"""Neural-network weights in noisy storage without ECC (arXiv 1709.06173).

* Representations (:mod:`.formats`): ``float32``, ``float16``, ``bfloat16``, ``fixed<n>``,
  ``hwo<n>`` (Hamming-weight ordered, enumerative coding in :mod:`.enumerative`).
* Protections (:mod:`.protect`): weight nulling (parity in bit 0), range detection.
* Models (:mod:`.model`): :func:`store`, :func:`load_stored`, :func:`corrupt_` (in place), :func:`corrupt` (a copy).
* Fault campaigns (:mod:`.campaign`): BER grid x configurations x trials through
  :class:`noisyhw.sweep.Run`, statistics, tolerable BER, equal-storage comparison.
"""

from .enumerative import hwo_decode, hwo_encode, hwo_flip_bound, one_flip_distortion
from .formats import (
    REPRESENTATIONS,
    BFloat16,
    FixedPoint,
    Float16,
    Float32,
    FloatBits,
    HammingOrdered,
    Representation,
    StoredTensor,
    representation,
)
from .model import StoredModel, corrupt, corrupt_, load_stored, store
from .protect import PROTECTIONS, Protection, decode_tensor, encode_tensor, protection

__all__ = [
    "PROTECTIONS",
    "REPRESENTATIONS",
    "BFloat16",
    "FixedPoint",
    "Float16",
    "Float32",
    "FloatBits",
    "HammingOrdered",
    "Protection",
    "Representation",
    "StoredModel",
    "StoredTensor",
    "corrupt",
    "corrupt_",
    "decode_tensor",
    "encode_tensor",
    "hwo_decode",
    "hwo_encode",
    "hwo_flip_bound",
    "load_stored",
    "one_flip_distortion",
    "protection",
    "representation",
    "store",
]
