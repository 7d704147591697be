"""Caddy in front of a benchmark's server, on TLS, for `bench/page_load.py --https`.

docs/deploy.md puts the app behind Caddy, and with a host name Caddy serves TLS, where a
browser speaks HTTP/2: every request of a page on one connection, where HTTP/1.1 gives a
browser six connections to a host and so a page of 17 files three round trips. This starts
that set-up on loopback: Caddy's own certificate authority (`tls internal`, nothing asked
of the outside) and HTTP/1.1 and HTTP/2 only; Caddy would offer HTTP/3 too, over UDP, which
a phone on a weak link may or may not get through.

The phone trusts that authority by its keys (`spki_hashes`, for Chromium's
`--ignore-certificate-errors-spki-list`), not by ignoring every certificate error: Chromium
keeps nothing in its cache from a site whose certificate has an error, and the returning
visit is about the cache.

Caddy is not a dependency of the project: `apt-get install caddy` (Debian's 2.6 is what
the figures in docs/performance.md used). Its state (the authority, the certificates) is
kept in the run's temporary directory and never installed in any trust store.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bench.servers import HOST, free_port, stop_process

CADDYFILE = """\
{{
    admin off
    skip_install_trust
    storage file_system {{
        root {storage}
    }}
    servers {{
        protocols h1 h2
    }}
}}

https://{host}:{port} {{
    tls internal
    reverse_proxy {host}:{upstream}
}}
"""


def caddy() -> str:
    found = shutil.which("caddy")
    if found is None:
        raise RuntimeError("--https needs Caddy: apt-get install caddy")
    return found


@dataclass
class TlsProxy:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    state: Path

    @property
    def https(self) -> str:
        return f"https://{HOST}:{self.port}"

    def spki_hashes(self) -> list[str]:
        """base64 SHA-256 of the public keys of Caddy's root and intermediate certificates."""
        authority = self.state / "pki" / "authorities" / "local"
        hashes = []
        for name in ("root.crt", "intermediate.crt"):
            key = x509.load_pem_x509_certificate((authority / name).read_bytes()).public_key()
            der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            hashes.append(base64.b64encode(hashlib.sha256(der).digest()).decode())
        return hashes

    def stop(self) -> None:
        stop_process(self.process, grace_seconds=10)


def start_tls_proxy(upstream_port: int, workdir: Path, timeout: float = 30) -> TlsProxy:
    """Caddy on a free loopback port, forwarding to 127.0.0.1:`upstream_port`; returns once
    it answers the app's /healthz over TLS."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "Caddyfile"
    config.write_text(CADDYFILE.format(storage=workdir / "state", host=HOST, port=port, upstream=upstream_port))
    log_path = workdir / "caddy.log"
    # Caddy reads HOME and XDG_* for where to keep things: all of it stays in `workdir`.
    env = {**os.environ, "HOME": str(workdir), "XDG_DATA_HOME": str(workdir), "XDG_CONFIG_HOME": str(workdir)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [caddy(), "run", "--config", str(config), "--adapter", "caddyfile"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    proxy = TlsProxy(process, port, log_path, workdir / "state")
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE  # Caddy's own authority, made a moment ago
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"caddy exited early:\n{log_path.read_text(errors='replace')[-3000:]}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{proxy.https}/healthz", timeout=2, context=unverified) as response,
        ):
            if response.status == 200:
                return proxy
        time.sleep(0.2)
    proxy.stop()
    raise RuntimeError(f"caddy did not answer in {timeout:.0f} s:\n{log_path.read_text(errors='replace')[-3000:]}")
