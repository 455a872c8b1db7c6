"""The command that makes a service's web push keys gives a pair pywebpush can sign with."""

import base64
from io import StringIO

from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from py_vapid import Vapid01


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_keys_are_a_matching_p256_pair():
    out = StringIO()
    call_command("vapid_keys", stdout=out)
    lines = dict(line.split("=", 1) for line in out.getvalue().split())
    public = _decode(lines["VAPID_PUBLIC_KEY"])
    assert len(public) == 65
    assert public[0] == 4
    signer = Vapid01.from_raw(lines["VAPID_PRIVATE_KEY"].encode())
    derived = signer.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert derived == public  # the browser's key matches the key that signs
    claims = signer.sign({"sub": "mailto:duty@example.org", "aud": "https://push.example.net"})
    assert claims["Authorization"].startswith("WebPush ey")  # a signed JWT
