"""HTTPS with the connection pinned to the checked address: the URL httpx connects to carries
the address, yet TLS still sends the host name (SNI) and verifies the certificate against it.
A local CA signs a certificate for ``api.legato.test``; a resolver of the test's own maps the
names to 127.0.0.1 (no DNS is asked).
"""

from __future__ import annotations

import datetime
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from legato.adapters.http_task.invoke import HttpTasks
from legato.errors import NamedStepError
from tests.services.http_task_server import LocalServer, serve

NAME = "api.legato.test"


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the server's context, a client context trusting only the test CA)"""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Legato test CA", ca_key, None, None)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate(NAME, leaf_key, ca, ca_key)
    cert_file, key_file = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


@pytest.fixture
def server(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[LocalServer]:
    yield from serve(tls=tls[0])


async def loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


async def test_https_to_the_pinned_address_verifies_the_name(
    server: LocalServer, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    tasks = HttpTasks(allow=["127.0.0.1"], resolver=loopback, verify=tls[1])
    url = f"https://{NAME}:{server.port}/echo"
    result: Any = await tasks.invoke({"ApiEndpoint": url, "Method": "GET"})
    assert result["StatusCode"] == 200
    assert result["ResponseBody"]["headers"]["host"] == f"{NAME}:{server.port}"


async def test_a_certificate_for_another_name_is_a_socket_error(
    server: LocalServer, tls: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """Pinning does not weaken verification: the certificate must name the URL's host."""
    tasks = HttpTasks(allow=["127.0.0.1"], resolver=loopback, verify=tls[1])
    url = f"https://other.legato.test:{server.port}/echo"
    with pytest.raises(NamedStepError) as caught:
        await tasks.invoke({"ApiEndpoint": url, "Method": "GET"})
    assert caught.value.error == "States.Http.Socket"
    assert "certificate" in caught.value.cause.lower()
    assert server.seen == []
