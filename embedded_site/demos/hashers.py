"""The lab's password hasher: Django's PBKDF2 with a thousandth of its iterations.

The auth demos measure thread hops, not hashing.  With Django 6.1's 1,500,000 iterations
every password check (even against an unusable password, which Django hashes anyway to
hide the difference) costs about a second of CPU on a small machine, and ten concurrent
checks took 13 s.  The lab holds no real accounts (its one user has no usable password).
"""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class LabPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_sha256_lab"
    iterations = PBKDF2PasswordHasher.iterations // 1000
