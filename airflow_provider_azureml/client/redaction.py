"""Every secret this process holds, and the scrubbing of error texts built from answers and exceptions.

Airflow's secrets masker hides registered values in log lines, but an exception message shown in the UI
(``test_connection``), a trigger event or a task failure may be built from text a server sent back, and a
server can echo the bearer token. So the client secret, the certificate password and every token acquired
are remembered here too, and each place that builds an error text passes it through :func:`scrub`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Values shorter than this are not treated as secrets (they would blank ordinary words); the same
#: threshold as Airflow's secrets masker.
MIN_SECRET_LENGTH = 5
#: Tokens are refreshed about hourly; the oldest remembered values are forgotten beyond this many.
MAX_REMEMBERED = 256
MASK = "***"

_remembered: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def remember_secret(value: str | None) -> None:
    """Scrub ``value`` from every error text built from now on in this process."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _remembered[value] = None
        _remembered.move_to_end(value)
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)


def scrub(text: str) -> str:
    """``text`` with every remembered secret replaced by ``***`` (longest first, so none leaks in part)."""
    with _lock:
        secrets = sorted(_remembered, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
