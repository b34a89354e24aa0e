"""HTTPS for the LAPI: the server's SSL context, and the client certificate handed to the app.

The context follows CrowdSec's ``api.server.tls`` (TLS 1.2 at least; client certificates
verified against ``ca_cert_path``, else the system's CAs; ``crl_path`` checked at the
handshake). Python's ssl verifies every certificate it asks for, so CrowdSec's two insecure
modes (``RequestClientCert``, ``RequireAnyClientCert``: accept unverified certificates) act
as their verifying counterparts; an unverified certificate never reaches the app.

uvicorn does not put the peer certificate in the ASGI scope: :func:`tls_scope_protocol`
subclasses its HTTP protocol to add the ASGI TLS extension (``scope["extensions"]["tls"]``,
with ``client_cert_chain`` (PEM, the leaf only) and ``client_cert_name`` (RFC 4514)) to every
request of a connection. :func:`client_subject` reads it back in the app.
"""
from __future__ import annotations

import asyncio
import ssl
import string
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from lapi.settings import TlsSettings

VERIFY_MODES = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
#: the RFC 4514 names of the attributes Python's ssl spells out
_SHORT_NAMES = {
    "commonName": "CN", "localityName": "L", "stateOrProvinceName": "ST",
    "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
    "streetAddress": "STREET", "domainComponent": "DC", "userId": "UID",
}
_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
_ESCAPED = '"+,;<>\\'


def server_context(tls: TlsSettings) -> ssl.SSLContext:
    """The LAPI's server-side SSL context (module docstring)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert_file, tls.key_file)
    context.verify_mode = VERIFY_MODES[tls.client_verification]
    if context.verify_mode != ssl.CERT_NONE:
        if tls.ca_cert_path is not None:
            context.load_verify_locations(cafile=tls.ca_cert_path)
        else:
            context.load_default_certs(ssl.Purpose.CLIENT_AUTH)
        if tls.crl_path is not None:
            context.load_verify_locations(cafile=tls.crl_path)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return context


def _escape(value: str) -> str:
    out = []
    for index, char in enumerate(value):
        if char == "\x00":
            out.append("\\00")
        elif (char in _ESCAPED or (index == 0 and char in " #")
              or (index == len(value) - 1 and char == " ")):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def format_name(subject: Any) -> str:
    """The RFC 4514 string of a subject as :meth:`ssl.SSLSocket.getpeercert` gives it
    (RDNs of ``(name, value)`` pairs, most significant first)."""
    rdns = ["+".join(f"{_SHORT_NAMES.get(key, key)}={_escape(value)}" for key, value in rdn)
            for rdn in subject]
    return ",".join(reversed(rdns))


def parse_name(name: str) -> list[tuple[str, str]]:
    """Every ``(type, value)`` of an RFC 4514 name, in string order; ValueError if malformed."""
    attributes: list[tuple[str, str]] = []
    key: str | None = None
    value = bytearray()
    index = 0
    while index < len(name):
        char = name[index]
        if char == "\\":
            pair = name[index + 1:index + 3]
            if len(pair) == 2 and all(c in string.hexdigits for c in pair):
                value += bytes.fromhex(pair)
                index += 3
                continue
            if index + 1 == len(name):
                raise ValueError(f"dangling escape in {name!r}")
            value += name[index + 1].encode()
            index += 2
            continue
        if char == "=" and key is None:
            key, value = value.decode(), bytearray()
        elif char in ",+":
            if key is None:
                raise ValueError(f"attribute without a type in {name!r}")
            attributes.append((key, value.decode()))
            key, value = None, bytearray()
        else:
            value += char.encode()
        index += 1
    if key is None:
        raise ValueError(f"attribute without a type in {name!r}")
    attributes.append((key, value.decode()))
    return attributes


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The ASGI TLS extension of an established connection."""
    der = ssl_object.getpeercert(binary_form=True)
    subject = (ssl_object.getpeercert() or {}).get("subject") if der else None
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": format_name(subject) if subject else None,
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class _TlsScope:
    """Adds one connection's TLS extension to the scope of each of its requests."""

    def __init__(self, app: ASGIApp, extension: dict[str, Any]) -> None:
        self.app = app
        self.extension = extension

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}),
                                             "tls": self.extension}}
        await self.app(scope, receive, send)


def tls_scope_protocol(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``base`` (a uvicorn HTTP protocol class) adding the TLS extension to its scopes. The
    handshake is over when ``connection_made`` runs, so the peer certificate is known."""

    class TlsScopeProtocol(base):  # type: ignore[valid-type, misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                self.app = _TlsScope(self.app, tls_extension(ssl_object))
            super().connection_made(transport)

    TlsScopeProtocol.__name__ = TlsScopeProtocol.__qualname__ = f"TlsScope{base.__name__}"
    return TlsScopeProtocol


@dataclass(frozen=True, slots=True)
class CertSubject:
    """What the LAPI reads from a verified client certificate."""

    common_name: str
    organizational_units: tuple[str, ...]


def client_subject(scope: Scope) -> CertSubject | None:
    """The verified client certificate's subject (None: no certificate). As in Go, the
    common name is the subject's last CN, which RFC 4514 (least significant first) lists
    first."""
    tls = (scope.get("extensions") or {}).get("tls") or {}
    name = tls.get("client_cert_name")
    if not name:
        return None
    attributes = parse_name(name)
    names = [value for key, value in attributes if key == "CN"]
    units = tuple(value for key, value in attributes if key == "OU")
    return CertSubject(names[0] if names else "", units)
