"""Password hashing with Argon2id (argon2-cffi): a maintained, memory-hard scheme."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Parameters kept modest (t=2, 19 MiB) so a login costs ~20 ms on the 2-core target machine,
# within OWASP's recommended minimum for Argon2id.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# A fixed hash verified when the user does not exist, so timing does not reveal user names.
DUMMY_HASH = _HASHER.hash("huiyan-no-such-user")
