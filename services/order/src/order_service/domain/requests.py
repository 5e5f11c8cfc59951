"""What a caller asks for when placing an order, and the rules it must follow."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Final

from order_service.domain.errors import FieldViolation, InvalidRequestError

MAX_LINES: Final = 20
MAX_QUANTITY: Final = 100
MAX_PRODUCT_ID_LENGTH: Final = 64
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 64
_KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]+")


@dataclass(frozen=True, slots=True)
class LineRequest:
    product_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    idempotency_key: str
    lines: tuple[LineRequest, ...]

    def validate(self) -> None:
        """Raise `InvalidRequestError` naming every field that breaks a rule."""
        violations: list[FieldViolation] = []
        key = self.idempotency_key
        if not key:
            violations.append(FieldViolation("idempotency_key", "is required"))
        elif len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not _KEY_PATTERN.fullmatch(key):
            violations.append(
                FieldViolation(
                    "idempotency_key",
                    f"must be 1..{MAX_IDEMPOTENCY_KEY_LENGTH} characters of A-Z a-z 0-9 . _ : -",
                )
            )
        if not self.lines:
            violations.append(FieldViolation("lines", "at least one line is required"))
        elif len(self.lines) > MAX_LINES:
            violations.append(FieldViolation("lines", f"at most {MAX_LINES} lines per order"))
        seen: set[str] = set()
        for index, line in enumerate(self.lines[:MAX_LINES]):
            if not line.product_id or len(line.product_id) > MAX_PRODUCT_ID_LENGTH:
                violations.append(
                    FieldViolation(
                        f"lines[{index}].product_id",
                        f"must be 1..{MAX_PRODUCT_ID_LENGTH} characters",
                    )
                )
            elif line.product_id in seen:
                violations.append(
                    FieldViolation(
                        f"lines[{index}].product_id", "each product may appear in one line only"
                    )
                )
            seen.add(line.product_id)
            if not 1 <= line.quantity <= MAX_QUANTITY:
                violations.append(
                    FieldViolation(
                        f"lines[{index}].quantity", f"must be between 1 and {MAX_QUANTITY}"
                    )
                )
        if violations:
            raise InvalidRequestError(violations)

    def fingerprint(self) -> str:
        """A digest of what the request asks for; a retry with the same key must match it.

        Line order does not matter (the same products in another order are the same request).
        """
        canonical = "\n".join(
            f"{line.product_id}\t{line.quantity}"
            for line in sorted(self.lines, key=lambda line: line.product_id)
        )
        return hashlib.sha256(canonical.encode()).hexdigest()
