"""Codes for data on imperfect media: CRCs, polar codes (constructions, encoders, SC/SCL
decoders, simulator), text sources and joint source-channel decoding, and time-space
constrained codes for phase-change memory (``noisyhw.codes.pcm``)."""

from .crc import CATALOGUE, CRC, CRCS, get_crc

__all__ = ["CATALOGUE", "CRC", "CRCS", "get_crc"]
