"""Whether a download host can be reached, answered within seconds (notebooks 00 and 03).

Offline, Kaggle's and Keras' downloaders retry for minutes before they fail.  deepcolor asks
:func:`reachable` first and, when the answer is no, fails at once with what to do instead.
"""

from __future__ import annotations

import socket
import threading
import urllib.parse
import urllib.request

TIMEOUT_S = 3.0


def reachable(url: str, timeout: float = TIMEOUT_S) -> bool:
    """Can a TCP connection to the URL's host (or to the HTTPS proxy, if one is set) be opened?

    url: e.g. ``"https://www.kaggle.com"``.  Runs in a thread so that a hanging DNS lookup cannot
    stall the caller beyond ``timeout`` seconds.
    """
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        host, port = proxy_parts.hostname, proxy_parts.port or 80
    ok = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                ok.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(ok)
