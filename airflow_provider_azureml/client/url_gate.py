"""The one parser for every URL that may carry the bearer token.

URL parsers disagree. ``urllib.parse`` reads ``https://evil.example\\@ml.azure.com/`` as a URL on
``ml.azure.com``, while urllib3 (under requests) ends the authority at the backslash and connects to
``evil.example``. So a host check is only as good as the agreement between the parser that checks and the
one that connects. This module refuses every spelling on which parsers could disagree, and hands back the
parts it checked; callers send the request to :attr:`CheckedURL.url`, the URL rebuilt from those parts, so
the host that was checked is the host that is contacted.

Accepted: ``http`` or ``https``, ``//``, a host that is a lower-case DNS name of letter-digit-hyphen
labels, a dotted-quad IPv4 address or a bracketed IPv6 address, an optional port 1-65535, then a path and a
query of printable ASCII with well-formed percent escapes. Refused: anything else, in particular userinfo
(``@``), backslashes, whitespace and control characters, non-ASCII characters (percent-encode them; for an
internationalised host use its ``xn--`` form), percent escapes in the authority, fragments, ``.`` and
``..`` path segments, and numeric hosts that are not a plain dotted quad (``127.1``, ``0x7f.0.0.1``,
``2130706433``), which some resolvers read as other addresses.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from airflow_provider_azureml.client.errors import AzureMLHostNotAllowedError

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_DOTTED_QUAD = re.compile(r"(?:0|[1-9][0-9]{0,2})(?:\.(?:0|[1-9][0-9]{0,2})){3}", re.ASCII)
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.ASCII)
_PORT = re.compile(r"[1-9][0-9]{0,4}", re.ASCII)
_PATH_OR_QUERY = re.compile(r"(?:[!$&-;=?-\[\]_a-z~]|%[0-9a-f]{2})*", re.ASCII | re.IGNORECASE)
_AUTHORITY_END = re.compile(r"[/?#]")


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed :func:`check_url`, as parts; ``url`` is what a client sends the request to."""

    scheme: str
    host: str  # lower case; an IPv6 address without brackets
    port: int
    path: str  # "/" at least
    query: str

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def origin(self) -> str:
        """``scheme://host:port`` with the port always explicit, for exact comparison."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.netloc}{self.path}{query}"

    @property
    def base(self) -> str:
        """The URL without query and trailing slash, for joining service paths onto it."""
        return f"{self.scheme}://{self.netloc}{self.path.rstrip('/')}"


def _refuse(why: str) -> AzureMLHostNotAllowedError:
    return AzureMLHostNotAllowedError(f"refusing URL: {why}")


def _check_host(host: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise _refuse("an IPv6 host must be written [address]")
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _refuse("the bracketed host is not an IPv6 address") from None
        if address.scope_id:
            raise _refuse("IPv6 zone identifiers are not allowed")
        return address.compressed
    host = host.lower()
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        if not _DOTTED_QUAD.fullmatch(host):
            raise _refuse("a numeric host must be a dotted-quad IPv4 address such as 127.0.0.1")
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise _refuse("the host is not a valid IPv4 address") from None
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _refuse(
            "the host must be a DNS name of letters, digits and hyphens (xn-- form for international "
            "names), without a trailing dot"
        )
    return host


def _split_authority(authority: str) -> tuple[str, int | None]:
    if not authority:
        raise _refuse("the host is empty")
    if "@" in authority:
        raise _refuse("credentials (user@) in a URL are not allowed")
    if "%" in authority:
        raise _refuse("percent escapes in the host are not allowed")
    host, port = authority, None
    bracket_end = authority.rfind("]")
    colon = authority.rfind(":")
    if colon > bracket_end:
        host, port_text = authority[:colon], authority[colon + 1 :]
        if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
            raise _refuse("the port must be a number from 1 to 65535")
        port = int(port_text)
    return host, port


def check_url(url: object) -> CheckedURL:
    """Parse ``url`` strictly; raise ``AzureMLHostNotAllowedError`` on any spelling parsers disagree on.

    The message never repeats the URL: it may carry a SAS signature or a token in its query.
    """
    if not isinstance(url, str):
        raise _refuse(f"expected a string, got {type(url).__name__}")
    if not url.isascii() or not url.isprintable() or " " in url:
        raise _refuse("whitespace, control and non-ASCII characters are not allowed (percent-encode them)")
    if "\\" in url:
        raise _refuse("backslashes are not allowed")
    if "#" in url:
        raise _refuse("fragments (#) are not allowed")
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS:
        raise _refuse("the URL must start with https:// (or http:// for a loopback endpoint override)")
    end = _AUTHORITY_END.search(rest)
    authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    host, port = _split_authority(authority)
    path, _, query = tail.partition("?")
    if not _PATH_OR_QUERY.fullmatch(path) or not _PATH_OR_QUERY.fullmatch(query):
        raise _refuse("the path or query has a character that must be percent-encoded, or a bad % escape")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise _refuse("'.' and '..' path segments are not allowed")
    return CheckedURL(scheme, _check_host(host), port or DEFAULT_PORTS[scheme], path or "/", query)
