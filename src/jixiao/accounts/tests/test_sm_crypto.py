"""SM algorithms for 密评: SM3 known answers, the PBKDF2-HMAC-SM3 password hasher selectable by
setting, and SM4-GCM seals for contact data."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from jixiao.accounts.hashers import PBKDF2SM3PasswordHasher, pbkdf2_sm3
from jixiao.accounts.models import Role, User
from jixiao.organisation.tests.factories import UserFactory
from jixiao.sm3 import sm3
from jixiao.surveys import sealing

SM3_HASHERS = [
    "jixiao.accounts.hashers.PBKDF2SM3PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]


def test_sm3_known_answers_of_gb_t_32905() -> None:
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_pbkdf2_sm3_is_stable_and_salted() -> None:
    one = pbkdf2_sm3(b"password", b"salt", 1000)
    assert one == pbkdf2_sm3(b"password", b"salt", 1000) and len(one) == 32
    assert one != pbkdf2_sm3(b"password", b"pepper", 1000)
    assert one != pbkdf2_sm3(b"password", b"salt", 1001)


def test_the_default_hasher_stays_djangos_pbkdf2_sha256() -> None:
    from django.conf import settings

    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert identify_hasher(make_password("Tea-pot-garden9")).algorithm == "pbkdf2_sha256"


def test_the_sm3_hasher_encodes_with_django_s_iteration_count() -> None:
    encoded = PBKDF2SM3PasswordHasher().encode("Tea-pot-garden9", "fixedsalt", 1000)
    algorithm, iterations, salt, digest = encoded.split("$")
    assert (algorithm, iterations, salt) == ("pbkdf2_sm3", "1000", "fixedsalt")
    assert base64.b64decode(digest) == pbkdf2_sm3(b"Tea-pot-garden9", b"fixedsalt", 1000)
    assert PBKDF2SM3PasswordHasher().verify("Tea-pot-garden9", encoded)
    assert not PBKDF2SM3PasswordHasher().verify("Tea-pot-garden8", encoded)


@pytest.mark.django_db
def test_with_the_sm3_setting_a_user_logs_in_and_an_old_hash_is_upgraded_to_sm3() -> None:
    user = UserFactory(username="kb", role=Role.OFFICE)
    assert user.password.startswith("pbkdf2_sha256$")
    with override_settings(PASSWORD_HASHERS=SM3_HASHERS):
        client = Client()
        response = client.post(reverse("accounts:login"), {"username": "kb", "password": "pw-Jixiao-2025"})
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.password.startswith("pbkdf2_sm3$")
        assert check_password("pw-Jixiao-2025", user.password)
        again = Client()
        assert (
            again.post(
                reverse("accounts:login"), {"username": "kb", "password": "pw-Jixiao-2025"}
            ).status_code
            == 302
        )
    assert User.objects.get(pk=user.pk).check_password("pw-Jixiao-2025")  # still verifies by default


def test_the_setting_puts_sm3_first(monkeypatch: Any) -> None:
    import importlib

    from jixiao.config import settings as project_settings

    monkeypatch.setenv("JIXIAO_PASSWORD_HASHER", "sm3")
    try:
        reloaded = importlib.reload(project_settings)
        assert reloaded.PASSWORD_HASHERS[0] == "jixiao.accounts.hashers.PBKDF2SM3PasswordHasher"
    finally:
        monkeypatch.delenv("JIXIAO_PASSWORD_HASHER")
        importlib.reload(project_settings)


def test_sm4_seals_round_trip_and_refuse_tampering() -> None:
    with override_settings(JIXIAO_SEAL_CIPHER="sm4"):
        sealed = sealing.seal("13800138000")
        assert base64.urlsafe_b64decode(sealed)[:1] == b"\x03"
        assert sealing.unseal(sealed) == "13800138000"
        raw = bytearray(base64.urlsafe_b64decode(sealed))
        raw[-1] ^= 1
        with pytest.raises(sealing.SealBroken):
            sealing.unseal(base64.urlsafe_b64encode(bytes(raw)).decode())


def test_switching_the_cipher_keeps_earlier_seals_readable() -> None:
    aes = sealing.seal("13800138000")
    assert base64.urlsafe_b64decode(aes)[:1] == b"\x02"  # the default is unchanged
    with override_settings(JIXIAO_SEAL_CIPHER="sm4"):
        sm4 = sealing.seal("13900139000")
        assert sealing.unseal(aes) == "13800138000"
    assert sealing.unseal(sm4) == "13900139000"


def test_sm4_gcm_matches_a_known_answer() -> None:
    # RFC 8998 appendix A.1, SM4-GCM test vector.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    iv = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plain = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    enc = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
    enc.authenticate_additional_data(aad)
    body = enc.update(plain) + enc.finalize()
    assert enc.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"
    assert body[:16].hex().upper() == "17F399F08C67D5EE19D0DC9969C4BB7D"
