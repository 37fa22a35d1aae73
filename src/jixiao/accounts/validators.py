"""The password rule 等保 asks beyond Django's validators: several character classes (复杂度)."""

from __future__ import annotations

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHARACTER_CLASSES = 4  # lower-case letters, capitals, digits, everything else


def character_classes(password: str) -> int:
    """Return how many of the four classes (lower, upper, digit, other) ``password`` uses."""
    lower = any(c in string.ascii_lowercase for c in password)
    upper = any(c in string.ascii_uppercase for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not (c.isascii() and c.isalnum()) for c in password)
    return sum((lower, upper, digit, other))


class CharacterClassesValidator:
    """Refuse a password that uses fewer than ``min_classes`` of the four character classes."""

    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= CHARACTER_CLASSES:
            raise ValueError(f"min_classes must be 1..{CHARACTER_CLASSES}, not {min_classes}")
        self.min_classes = min_classes

    def validate(self, password: str, user: object | None = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _("密码须包含小写字母、大写字母、数字、其他符号四类中的至少 %(n)d 类。") % {
            "n": self.min_classes
        }
