"""A certificate authority of the emulator's own, for the blob host the SDK insists on reaching over TLS.

The SDK rebuilds every snapshot upload URL as ``https://{account}.blob.{suffix}``
(``azureml._file_utils.upload.upload_blob_from_stream``), so plain HTTP is impossible and the certificate
must be trusted. The emulator therefore makes a CA at start (kept in its data directory, so a restarted
emulator with the same directory keeps the bundle clients already hold), and issues a short-lived server
certificate for ``*.blob.core.windows.net`` from it. Clients trust it only while publishing, through
``REQUESTS_CA_BUNDLE`` (see ``GET /_emulator/publishing``).
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BLOB_SUFFIX = "blob.core.windows.net"
#: The storage account the content service hands out blob URLs for.
BLOB_ACCOUNT = "emuacct"
BLOB_HOST = f"{BLOB_ACCOUNT}.{BLOB_SUFFIX}"
CA_CERT_FILE = "emulator-ca.pem"
CA_KEY_FILE = "emulator-ca.key"
_ONE_DAY = datetime.timedelta(days=1)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class EmulatorCA:
    """The emulator's CA: its PEM for clients, and a TLS server context for the blob host."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, directory: Path) -> None:
        self._key = key
        self.cert = cert
        self.directory = directory

    @classmethod
    def load_or_create(cls, directory: Path) -> EmulatorCA:
        """Reuse the CA kept in ``directory``, or make (and keep) a new one."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
        if cert_path.exists() and key_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if isinstance(key, ec.EllipticCurvePrivateKey) and cert.not_valid_after_utc > _now() + _ONE_DAY:
                return cls(key, cert, directory)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Azure ML emulator local CA")])
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + 3650 * _ONE_DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_path.write_bytes(_key_pem(key))
        key_path.chmod(0o600)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert, directory)

    @property
    def pem(self) -> str:
        """The CA certificate, what a client puts in ``REQUESTS_CA_BUNDLE``."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def cert_path(self) -> Path:
        return self.directory / CA_CERT_FILE

    def server_context(self, hostnames: tuple[str, ...] = (f"*.{BLOB_SUFFIX}",)) -> ssl.SSLContext:
        """A TLS server context presenting a fresh certificate for ``hostnames``, signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - datetime.timedelta(minutes=5))
            .not_valid_after(_now() + 30 * _ONE_DAY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False
            )
            .sign(self._key, hashes.SHA256())
        )
        # ssl loads a chain only from files: write them beside the CA, readable by us alone.
        chain_path, key_path = self.directory / "blob-server.pem", self.directory / "blob-server.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(_key_pem(key))
        chain_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.pem.encode())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain_path, key_path)
        return context


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
