"""Channel codes: CRCs and polar codes (constructions, encoders, SC/SCL decoders, simulator)."""

from .crc import CATALOGUE, CRC, CRCS, get_crc

__all__ = ["CATALOGUE", "CRC", "CRCS", "get_crc"]
