"""Initial passwords the office hands out: generated, validated, and hashed cheaply once.

An initial password is 12 characters drawn by :mod:`secrets` from letters and digits that cannot
be misread on paper (no 0/O, 1/l/I), with at least one lower-case letter, one capital and one
digit: about 69 bits of entropy, so it passes Django's validators and resists guessing.
"""

from __future__ import annotations

import secrets
import string

from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone

from jixiao.accounts.models import User

INITIAL_PASSWORD_LENGTH = 12
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"
_ALPHABET = _LOWER + _UPPER + _DIGITS
assert not set(_ALPHABET) - set(string.ascii_letters + string.digits)

# Django's default PBKDF2 costs ~0.5 s per hash here (1,000,000 iterations): 120 liaison accounts
# would keep a request busy for a minute. An initial password is a random ~69-bit secret, not a
# human choice, so a dictionary attack does not apply and far fewer iterations keep it as safe as
# a chosen password under the full count. The encoded hash records its iteration count, Django
# verifies it as usual and re-hashes it at full cost on the first successful login (must_update);
# the user must then replace it anyway.
INITIAL_HASH_ITERATIONS = 20_000


class _InitialPasswordHasher(PBKDF2PasswordHasher):
    iterations = INITIAL_HASH_ITERATIONS


def password_generate() -> str:
    """Return a fresh random initial password (see the module docstring)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(INITIAL_PASSWORD_LENGTH))
        if (
            any(c in _LOWER for c in password)
            and any(c in _UPPER for c in password)
            and any(c in _DIGITS for c in password)
        ):
            return password


def set_initial_password(user: User, password: str, *, generated: bool = True) -> None:
    """Validate ``password`` with the project's validators (raises ValidationError with Chinese
    messages), store its hash on ``user`` (not saved) and mark that it must be changed.

    Only a ``generated`` password gets the cheaper hash above; one a person typed is hashed at
    full cost like any chosen password."""
    validate_password(password, user)
    if generated:
        user.password = make_password(password, hasher=_InitialPasswordHasher())
    else:
        user.set_password(password)
    user.must_change_password = True
    user.password_changed_at = timezone.now()
