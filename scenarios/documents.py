"""Synthetic supporting documents (pièces justificatives): PDF and JPEG files of realistic sizes.

Sizes follow what applicants upload: phone photos of a passport or a card as JPEG of a few
hundred kilobytes, scanned proofs as PDF; all under the ~2 MB per file that ANEF is reported to
accept (*unofficial*, shared/reference-data.md). The bytes are random but well-formed enough to be
judged by content (the platform checks the type by its magic bytes, as it should).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

# kind → (format, smallest, largest size in bytes)
SIZES: dict[str, tuple[str, int, int]] = {
    "passport": ("jpeg", 350_000, 1_200_000),
    "residence_card": ("jpeg", 200_000, 800_000),
    "proof_of_address": ("pdf", 80_000, 400_000),
    "proof_of_resources": ("pdf", 100_000, 900_000),
    "photo": ("jpeg", 30_000, 120_000),
    "loss_declaration": ("pdf", 60_000, 300_000),
    "complement": ("pdf", 50_000, 500_000),
}


@dataclass(frozen=True)
class SyntheticFile:
    kind: str
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def make_document(kind: str, rng: random.Random, *, scale: float = 1.0) -> SyntheticFile:
    """A file for one kind of document; ``scale`` shrinks or grows the sizes (campaigns that
    measure the platform rather than the network use a small scale)."""
    fmt, low, high = SIZES.get(kind, SIZES["complement"])
    size = max(1_000, int(rng.randint(low, high) * scale))
    if fmt == "jpeg":
        return SyntheticFile(kind, f"{kind}.jpg", "image/jpeg", _jpeg(rng, size))
    return SyntheticFile(kind, f"{kind}.pdf", "application/pdf", _pdf(rng, size))


def _pdf(rng: random.Random, size: int) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    tail = b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    payload = rng.randbytes(max(0, size - len(head) - len(tail) - 40))
    stream = b"3 0 obj\n<< /Length " + str(len(payload)).encode() + b" >>\nstream\n"
    return head + stream + payload + tail


def _jpeg(rng: random.Random, size: int) -> bytes:
    # SOI, a JFIF APP0 segment, comment segments of random bytes (at most 65,533 each), EOI.
    out = bytearray(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    while len(out) < size - 2:
        chunk = min(65_533, size - 2 - len(out) - 4)
        if chunk <= 0:
            break
        out += b"\xff\xfe" + (chunk + 2).to_bytes(2, "big") + rng.randbytes(chunk)
    return bytes(out + b"\xff\xd9")
