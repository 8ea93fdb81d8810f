"""A fake FCM with a real RSA service account whose signature it checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.fakes.fcm import FakeFcm


@asynccontextmanager
async def fake_fcm() -> AsyncIterator[tuple[FakeFcm, dict[str, Any]]]:
    """A running fake FCM + token endpoint and a service account pointing at it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fake = FakeFcm(public_cert=public)
    base = await fake.start()
    account = {
        "type": "service_account",
        "project_id": "dloop-test",
        "private_key_id": "k1",
        "private_key": pem,
        "client_email": "relay@dloop-test.iam.gserviceaccount.com",
        "token_uri": f"{base}/token",
    }
    try:
        yield fake, account
    finally:
        await fake.close()
