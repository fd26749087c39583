"""The URL gate against hostile spellings: refused, or the host every HTTP client contacts is allowed.

The checked URL is what the clients send, so for every accepted URL the host that requests (urllib3) and
httpx would connect to is read from the checked URL and compared with the host the policy allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest
import requests
import urllib3

from airflow_provider_azureml.client.clouds import CLOUDS, HostPolicy
from airflow_provider_azureml.client.errors import AzureMLHostNotAllowedError
from airflow_provider_azureml.client.url_gate import check_url

ENDPOINT = "http://127.0.0.1:8089"
POLICY = HostPolicy(CLOUDS["public"], ENDPOINT)
REFUSED = None

HOSTILE: list[tuple[object, str | None]] = [
    # Parser disagreement on the authority's end (urllib3 stops at the backslash, urllib.parse does not).
    ("https://evil.example\\@ml.azure.com/x", REFUSED),
    ("https://ml.azure.com\\@evil.example/x", REFUSED),
    ("http://127.0.0.2:9\\@127.0.0.1:8089/x", REFUSED),
    ("https://evil.example\\.ml.azure.com/x", REFUSED),
    ("https://ml.azure.com/x\\..\\..\\y", REFUSED),
    ("https://evil.example#@ml.azure.com/x", REFUSED),
    ("https://evil.example?@ml.azure.com/x", REFUSED),
    ("https://evil.example;@ml.azure.com/x", REFUSED),
    # Userinfo and percent-encoded delimiters.
    ("https://user@ml.azure.com/x", REFUSED),
    ("https://ml.azure.com@evil.example/x", REFUSED),
    ("https://ml.azure.com:443@evil.example/x", REFUSED),
    ("https://ml.azure.com%40evil.example/x", REFUSED),
    ("https://evil.example%2f@ml.azure.com/x", REFUSED),
    ("https://evil.example%5c@ml.azure.com/x", REFUSED),
    ("https://ml.azure.com%2eevil.example/x", REFUSED),
    ("http://[::1%25eth0]:8089/x", REFUSED),
    # Whitespace, control and non-ASCII characters.
    ("https://ml.azure.com\t.evil.example/x", REFUSED),
    ("https://ml.azure.com\n/x", REFUSED),
    ("https://evil.example\r\n@ml.azure.com/x", REFUSED),
    (" https://evil.example/x", REFUSED),
    ("https://ml.azure.com /x", REFUSED),
    ("https://evil.example\x00.ml.azure.com/x", REFUSED),
    ("http://127.0.0.1:8089\x0b@evil.example/", REFUSED),
    ("https://ml.azure.com/x\u2028", REFUSED),
    ("https://\uff4d\uff4c.azure.com/x", REFUSED),  # fullwidth "ml": IDNA would fold it to ml.azure.com
    ("https://ml.azure.com\u3002evil.example/x", REFUSED),  # ideographic full stop
    ("https://ml.azure.com/\u00e9", REFUSED),
    # Hosts that only look allowed.
    ("https://evil.example/.ml.azure.com", REFUSED),
    ("https://ml.azure.com.evil.example/x", REFUSED),
    ("https://evilapi.azureml.ms/x", REFUSED),
    ("https://ml.azure.com./x", REFUSED),
    ("https://[ml.azure.com]/x", REFUSED),
    ("https://ml.azure.com]/x", REFUSED),
    ("https://xn--ml-azure-9ya.com/x", REFUSED),
    ("https://-ml.azure.com/x", REFUSED),
    ("https://ml..azure.com/x", REFUSED),
    # Scheme and structure.
    ("https:ml.azure.com/x", REFUSED),
    ("https:/ml.azure.com/x", REFUSED),
    ("https:///evil.example/x", REFUSED),
    ("//evil.example/x", REFUSED),
    ("ftp://ml.azure.com/x", REFUSED),
    ("javascript:alert(1)", REFUSED),
    ("http://ml.azure.com/x", REFUSED),
    ("https://ml.azure.com/x#fragment", REFUSED),
    ("https://ml.azure.com/x/../../y", REFUSED),
    ("https://ml.azure.com/./x", REFUSED),
    ("", REFUSED),
    (None, REFUSED),
    (b"https://ml.azure.com/x", REFUSED),
    # Numeric hosts other than a plain dotted quad, and loopback spellings of another origin.
    ("http://127.1:8089/x", REFUSED),
    ("http://0x7f.0.0.1:8089/x", REFUSED),
    ("http://2130706433:8089/x", REFUSED),
    ("http://017700000001:8089/x", REFUSED),
    ("http://127.0.0.01:8089/x", REFUSED),
    ("http://127.0.0.2:8089/x", REFUSED),
    ("http://localhost:8089/x", REFUSED),
    ("http://[::1]:8089/x", REFUSED),
    ("http://[::ffff:127.0.0.1]:8089/x", REFUSED),
    # Ports.
    ("http://127.0.0.1:08089/x", REFUSED),
    ("http://127.0.0.1:+8089/x", REFUSED),
    ("http://127.0.0.1:8089:80/x", REFUSED),
    ("http://127.0.0.1:65536/x", REFUSED),
    ("http://127.0.0.1:0/x", REFUSED),
    ("https://ml.azure.com:/x", REFUSED),
    ("http://127.0.0.1/x", REFUSED),  # port 80, not the override's 8089
    # Accepted: the host every client contacts is the allowed one.
    ("HTTPS://ML.Azure.COM/x", "ml.azure.com"),
    ("https://ml.azure.com:443/x?next=https://evil.example/", "ml.azure.com"),
    ("https://westeurope.api.azureml.ms/x/%2e%2e/%2F?a=%40b", "westeurope.api.azureml.ms"),
    ("https://ml.azure.com?x=@evil.example", "ml.azure.com"),
    ("http://127.0.0.1:8089/x?y=1", "127.0.0.1"),
]


def connect_hosts(url: str) -> set[str]:
    """The host requests (through urllib3) and httpx would open a connection to for ``url``."""
    prepared = requests.Request("GET", url).prepare()
    return {str(urllib3.util.parse_url(prepared.url).host), httpx.URL(url).host}


@pytest.mark.parametrize(("url", "expected_host"), HOSTILE)
def test_hostile_url_is_refused_or_every_client_contacts_the_allowed_host(
    url: object, expected_host: str | None
) -> None:
    if expected_host is None:
        with pytest.raises(AzureMLHostNotAllowedError):
            POLICY.check(url)
        return
    checked = POLICY.check(url)
    assert checked.host == expected_host
    assert connect_hosts(checked.url) == {expected_host}
    assert POLICY.check(checked.url) == checked  # rebuilding is stable


def test_the_table_is_large_and_the_disagreement_it_guards_against_is_real() -> None:
    assert len(HOSTILE) >= 40
    url = "https://evil.example\\@ml.azure.com/x"
    assert urlsplit(url).hostname == "ml.azure.com"
    assert urllib3.util.parse_url(url).host == "evil.example"


def test_refusals_never_repeat_the_url() -> None:
    secret_query = "sig=SAS-SIGNATURE-VALUE"
    with pytest.raises(AzureMLHostNotAllowedError) as info:
        check_url(f"https://evil.example\\@ml.azure.com/x?{secret_query}")
    assert secret_query not in str(info.value) and "evil.example" not in str(info.value)


def test_the_checked_url_is_rebuilt_from_its_parts() -> None:
    checked = check_url("HTTPS://Westeurope.API.azureml.ms:443/pipelines/v1.0/x?a=1")
    assert checked.url == "https://westeurope.api.azureml.ms/pipelines/v1.0/x?a=1"
    assert checked.origin == "https://westeurope.api.azureml.ms:443"
    assert check_url("http://[::1]:8089").url == "http://[::1]:8089/"
