"""Cold downloads: fetched in a worker thread, verified, and what goes wrong on the way.

A body cut short, a redirect to another host, an error status: a 502, nothing in
the cache, the server still serving. Connections to upstream are kept alive, and
one the upstream dropped while idle is replaced without failing the download.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import httpx

from tests.proxy.conftest import OLD, Dist, LocalUpstream, MakeProxy


def cache_is_clean(proxy_cache: str, sha256: str) -> bool:
    files = Path(proxy_cache, "files", sha256[:2], sha256)
    return not files.exists() and not any(Path(proxy_cache, "tmp").iterdir())


def test_a_body_cut_short_is_502_and_nothing_is_cached(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    data = os.urandom(3 * 1024 * 1024)
    cut = upstream.add("qtcut", Dist("qtcut-1.0-py3-none-any.whl", data, OLD))
    cut.content_length = len(data) + 1000  # claims more than it sends, then hangs up
    whole = upstream.wheel("qtwhole", "1.0", OLD)
    proxy = make_proxy()
    got = httpx.get(f"{proxy.url}/files/qtcut/{cut.filename}", timeout=60)
    assert got.status_code == 502 and "closed before the end" in got.text
    assert cache_is_clean(proxy.app.config.cache_dir, cut.sha256)
    again = httpx.get(f"{proxy.url}/files/qtwhole/{whole.filename}", timeout=60)
    assert again.status_code == 200 and again.content == whole.data


def test_file_redirects_stay_on_the_upstreams_origin(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    other = LocalUpstream()
    other.start()
    try:
        data = os.urandom(5000)
        away = upstream.add("qtaway", Dist("qtaway-1.0-py3-none-any.whl", data, OLD))
        other.add("qtaway", Dist(away.filename, data, OLD))
        upstream.raw_files[away.filename] = (
            302, "text/plain", b"", {"Location": f"{other.url}/files/{away.filename}"},
        )  # fmt: skip
        moved = upstream.wheel("qtmoved", "1.0", OLD)
        upstream.add("qtmoved", Dist("qtmoved-1.0.tar.gz", moved.data, OLD))
        upstream.raw_files[moved.filename] = (
            301, "text/plain", b"", {"Location": "/files/qtmoved-1.0.tar.gz"},
        )  # fmt: skip
        proxy = make_proxy()
        refused = httpx.get(f"{proxy.url}/files/qtaway/{away.filename}", timeout=60)
        assert refused.status_code == 502 and "redirects to another host" in refused.text
        assert other.hits == []  # never contacted
        assert cache_is_clean(proxy.app.config.cache_dir, away.sha256)
        followed = httpx.get(f"{proxy.url}/files/qtmoved/{moved.filename}", timeout=60)
        assert followed.status_code == 200 and followed.content == moved.data
    finally:
        other.stop()


def test_an_upstream_error_status_is_502_with_the_status(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    gone = upstream.wheel("qtgone", "1.0", OLD)
    upstream.raw_files[gone.filename] = (404, "text/plain", b"no", {})
    proxy = make_proxy()
    got = httpx.get(f"{proxy.url}/files/qtgone/{gone.filename}", timeout=60)
    assert got.status_code == 502 and "HTTP 404" in got.text
    assert cache_is_clean(proxy.app.config.cache_dir, gone.sha256)


def test_connections_are_kept_alive_and_one_dropped_while_idle_is_replaced(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dists = [upstream.wheel("qtkeep", f"1.{n}", OLD) for n in range(3)]
    dropper = upstream.wheel("qtdrop", "1.0", OLD)
    dropper.hang_up = True  # answers whole, then closes without "Connection: close"
    after = upstream.wheel("qtafter", "1.0", OLD)
    proxy = make_proxy()
    with httpx.Client(base_url=proxy.url, timeout=60) as client:
        assert client.get("/simple/qtkeep/").status_code == 200
        before = upstream.connections
        for dist in dists:
            got = client.get(f"/files/qtkeep/{dist.filename}")
            assert got.status_code == 200 and got.content == dist.data
        assert upstream.connections == before + 1  # three files, one connection
        got = client.get(f"/files/qtdrop/{dropper.filename}")
        assert got.status_code == 200 and got.content == dropper.data
        got = client.get(f"/files/qtafter/{after.filename}")
        assert got.status_code == 200 and got.content == after.data
    assert hashlib.sha256(after.data).hexdigest() == after.sha256
    assert proxy.app.cache.has(after.sha256)


def test_files_fetched_at_once_are_bounded_and_pages_still_answer(
    upstream: LocalUpstream, make_proxy: MakeProxy
) -> None:
    dists = [upstream.wheel("qtslow", f"1.{n}", OLD) for n in range(5)]
    upstream.wheel("qtother", "1.0", OLD)
    upstream.slow_files = 0.5
    proxy = make_proxy(upstream_fetches=2)
    assert httpx.get(f"{proxy.url}/simple/qtslow/", timeout=60).status_code == 200
    answers: dict[str, httpx.Response] = {}

    def fetch(dist: Dist) -> None:
        answers[dist.filename] = httpx.get(f"{proxy.url}/files/qtslow/{dist.filename}", timeout=60)

    threads = [threading.Thread(target=fetch, args=(dist,)) for dist in dists]
    for thread in threads:
        thread.start()
    page = httpx.get(f"{proxy.url}/simple/qtother/", timeout=60)  # needs the thread pool
    for thread in threads:
        thread.join(60)
    assert page.status_code == 200
    assert all(answers[d.filename].content == d.data for d in dists)
    assert upstream.most_files_in_flight == 2  # concurrent, and never more than the bound


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trusted root signed, and its key."""
    from datetime import UTC, datetime, timedelta
    from ipaddress import IPv4Address

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_a_file_host_with_an_untrusted_certificate_is_refused(
    upstream: LocalUpstream, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    import http.server
    import json
    import ssl

    data = os.urandom(4000)
    served: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        filename = "qttls-1.0-py3-none-any.whl"
        sha256 = hashlib.sha256(data).hexdigest()
        entry = {
            "filename": filename,
            "url": f"https://127.0.0.1:{port}/files/{filename}",
            "hashes": {"sha256": sha256},
            "upload-time": OLD.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        body = {"meta": {"api-version": "1.1"}, "name": "qttls", "files": [entry]}
        upstream.raw_pages["qttls"] = (
            200, "application/vnd.pypi.simple.v1+json", json.dumps(body).encode(), {},
        )  # fmt: skip
        proxy = make_proxy(file_hosts=(f"127.0.0.1:{port}",))
        got = httpx.get(f"{proxy.url}/files/qttls/{filename}", timeout=60)
        assert got.status_code == 502 and "SSLCertVerificationError" in got.text, got.text
        assert served == []  # the handshake failed: no request was sent
        assert cache_is_clean(proxy.app.config.cache_dir, sha256)
    finally:
        server.shutdown()
        server.server_close()
