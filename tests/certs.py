"""Throwaway X.509 certificates for the TLS tests: a private CA, leaf certificates and the fake
default certificate ingress-nginx serves when it has no better one.

Everything is made offline with the ``cryptography`` package and written as PEM files, because
that is what nginx reads. Keys are fresh for every run (EC P-256, fast to make); the names, the
subjects and the validity window are fixed, so a certificate is told apart by its subject and
SANs, never by a date. The window (2020 to 2099) is wide so no test depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2099, 12, 31, tzinfo=dt.UTC)

# What ingress-nginx puts in the certificate it generates at start-up and serves for every name
# it has no Secret for (internal/net/ssl: "Acme Co", "Kubernetes Ingress Controller Fake
# Certificate", SAN ingress.local). Tests recognise the fallback by this subject.
FAKE_CN = "Kubernetes Ingress Controller Fake Certificate"
FAKE_ORG = "Acme Co"
FAKE_SAN = "ingress.local"


class CertFiles(NamedTuple):
    """A certificate and its private key as PEM files: what a ``kubernetes.io/tls`` Secret holds.
    A plain ``(cert, key)`` tuple, so it can be passed wherever the harness takes one."""

    cert: Path
    key: Path


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _write(
    workdir: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> CertFiles:
    workdir.mkdir(parents=True, exist_ok=True)
    files = CertFiles(workdir / f"{stem}.crt", workdir / f"{stem}.key")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    files.key.chmod(0o600)
    return files


def _leaf(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signing_key: ec.EllipticCurvePrivateKey,
    dns_names: Sequence[str],
) -> x509.Certificate:
    """A server certificate. It carries every extension a strict verifier (Python 3.13's
    ``VERIFY_X509_STRICT``) asks for, so the tests keep passing on newer Pythons."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
        .sign(signing_key, hashes.SHA256())
    )


class CertificateAuthority:
    """A private CA, written to ``<workdir>/ca.crt``; clients trust it with ``cafile=ca.cert``.

    It stands for whatever signs the Ingress Secrets in a cluster (cert-manager's issuer, or an
    operator's own CA). The fake default certificate is deliberately *not* signed by it.
    """

    def __init__(self, workdir: Path, common_name: str = "nexus-gitops test CA") -> None:
        self.workdir = workdir
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = _name(common_name)
        public = self._key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(self._name)
            .issuer_name(self._name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOT_BEFORE)
            .not_valid_after(NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        self.cert = _write(workdir, "ca", cert, self._key).cert

    def issue(
        self, common_name: str, dns_names: Sequence[str], stem: str | None = None
    ) -> CertFiles:
        """A leaf certificate for ``dns_names`` (SAN dNSName entries, which is all a verifying
        client looks at). ``common_name`` only labels it, so a test can tell which was served."""
        assert dns_names, "a server certificate needs at least one name"
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _leaf(_name(common_name), self._name, key.public_key(), self._key, dns_names)
        return _write(self.workdir, stem or common_name, cert, key)


def fake_default_certificate(workdir: Path) -> CertFiles:
    """The self-signed certificate ingress-nginx makes for itself and serves by default."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(FAKE_CN, FAKE_ORG)
    cert = _leaf(name, name, key.public_key(), key, [FAKE_SAN])
    return _write(workdir, "default-fake-certificate", cert, key)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return san.value.get_values_for_type(x509.DNSName)


def common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def covers(cert: x509.Certificate, host: str) -> bool:
    """Whether ``cert`` is valid for ``host``, as Go's ``VerifyHostname`` decides for
    ingress-nginx: a SAN equal to the host (case-insensitively), or a ``*.`` SAN standing for
    exactly one leftmost label. (ingress-nginx falls back to the Common Name; our leaves label
    their CN with the Secret's name, which is never a host, so the fallback is left out.)"""
    host = host.lower().rstrip(".")
    for name in dns_names(cert):
        name = name.lower()
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding: identifies one certificate exactly."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
