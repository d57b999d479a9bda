"""RELIABILITY 18: SSRF on user-supplied webhook URLs. Every URL in the list is refused at
registration and at delivery, at connect time: a canary listening on every local address of the
port the URLs aim at counts connections, and must count 0.

The tests allow only 127.77.0.0/16 (their own receivers) through DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE;
127.0.0.1, ::1 and the rest stay forbidden, as in production."""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from apps import state
from apps.state import webhooks as commands
from orchestration.activation.webhooks import deliveries, ssrf

from .conftest import ADMIN, Canary

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)

# RELIABILITY 18's list, as written (port 80)
LISTED = ["http://127.0.0.1", "http://169.254.169.254/latest/meta-data/", "http://[::1]", "http://[::ffff:127.0.0.1]",
          "http://2130706433", "http://0x7f000001", "http://017700000001", "file:///etc/passwd", "gopher://127.0.0.1:70/_x"]


def aimed_at(port: int) -> list[str]:
    """The same loopback spellings (and a few more), aimed at the canary's port."""
    return [f"http://127.0.0.1:{port}/", f"http://[::1]:{port}/", f"http://[::ffff:127.0.0.1]:{port}/",
            f"http://2130706433:{port}/", f"http://0x7f000001:{port}/", f"http://017700000001:{port}/",
            f"http://127.1:{port}/", f"http://0x7f.0.0.1:{port}/", f"http://0177.0.0.1:{port}/",
            f"http://[::127.0.0.1]:{port}/", f"http://127.0.0.1.:{port}/", f"http://0.0.0.0:{port}/",
            f"http://[::]:{port}/", f"http://localhost:{port}/", f"gopher://127.0.0.1:{port}/_x"]


def one_answer(address: str):
    return lambda host, port: [address]


@pytest.mark.parametrize("url", LISTED)
def test_every_listed_url_is_refused_at_registration(url):
    with pytest.raises(ssrf.UnsafeWebhookURL) as refused:
        commands.register_endpoint(ADMIN, url, ["deal.created"])
    message = str(refused.value)
    assert ("is not allowed" in message) if url.startswith(("file:", "gopher:")) else ("webhook URL refused" in message)
    with state.engine().connect() as conn:
        assert conn.execute(text("select count(*) from app.webhook_endpoints")).scalar() == 0


@pytest.mark.parametrize("host, address, reason", [
    ("internal.example", "10.0.0.5", "internal.example resolves to 10.0.0.5, a private address"),
    ("meta.example", "169.254.169.254", "a cloud metadata address"),
    ("cgnat.example", "100.64.0.7", "carrier-grade NAT"),
    ("mapped.example", "::ffff:192.168.1.1", "resolves to 192.168.1.1, a private address"),
    ("ula.example", "fd12:3456::1", "a private (unique local) address"),
    ("multicast.example", "239.1.2.3", "a multicast address"),
])
def test_a_hostname_resolving_to_a_forbidden_address_is_refused_with_the_reason(host, address, reason):
    with pytest.raises(ssrf.UnsafeWebhookURL, match=re.escape(reason)):
        commands.register_endpoint(ADMIN, f"https://{host}/hook", ["deal.created"], resolver=one_answer(address))


def test_one_forbidden_answer_among_several_refuses_the_host():
    with pytest.raises(ssrf.UnsafeWebhookURL, match="resolves to 10.0.0.5"):
        ssrf.vet("https://mixed.example/", resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])


def test_every_url_is_refused_at_delivery_and_the_canary_gets_no_hit(canary, monkeypatch):
    """Endpoints that passed registration under a wider allow-list (or were written before it) are
    refused again at every delivery: nothing connects."""
    urls = [url for url in aimed_at(canary.port) if url.startswith("http")] + LISTED[1:2]
    hostile = {"internal.example": "10.0.0.5"}
    resolver = lambda host, port: [hostile.get(host) or socket.getaddrinfo(host, port)[0][4][0]]  # noqa: E731
    urls.append(f"http://internal.example:{canary.port}/")
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "0.0.0.0/0,::/0")   # an operator's mistake, later fixed
    for url in urls:
        commands.register_endpoint(ADMIN, url, ["deal.created"], resolver=resolver)
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "127.77.0.0/16")
    delivery_ids = deliveries.enqueue("deal.created", {"deal_id": 1}, "deal.created:1", now=T0)
    assert len(delivery_ids) == len(urls)

    run = deliveries.deliver_due(now=T0, resolver=resolver)

    time.sleep(0.2)  # let the canary's accept loop count anything that did connect
    assert run.attempted == len(urls) and run.delivered == 0
    with state.engine().connect() as conn:
        errors = conn.execute(text("""select e.url, a.error, a.status_code, a.peer from app.webhook_attempts a
                                      join app.webhook_deliveries d using (delivery_id)
                                      join app.webhook_endpoints e using (endpoint_id)""")).all()
    assert len(errors) == len(urls)
    for url, error, status_code, peer in errors:
        assert error.startswith("refused by the SSRF guard"), (url, error)
        assert status_code is None and peer is None
    # other schemes cannot even be stored, and the sender refuses them before any socket exists
    for url in (f"gopher://127.0.0.1:{canary.port}/_x", "file:///etc/passwd"):
        with pytest.raises(Exception, match="webhook_endpoints_url_check"):
            with state.engine().begin() as conn:
                conn.execute(text("""insert into app.webhook_endpoints (url, event_types, secret, created_by)
                                     values (:url, '{deal.created}', 'whsec_' || repeat('QUFB', 8), 'legacy')"""),
                             {"url": url})
        with pytest.raises(ssrf.UnsafeWebhookURL, match="is not allowed"):
            ssrf.post(url, b"{}", {})
    time.sleep(0.2)
    assert canary.hits == 0
    print(f"\n[R18] blocked at delivery: {len(errors)}/{len(urls)}; canary hits: {canary.hits}")


def test_the_canary_does_count_a_connection(canary):
    """Control: the canary sees a connection when one is made (so 0 hits above means something)."""
    socket.create_connection(("127.0.0.1", canary.port), timeout=2).close()
    socket.create_connection(("::1", canary.port), timeout=2).close()
    deadline = time.monotonic() + 2
    while canary.hits < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert canary.hits == 2


def test_dns_rebinding_loses_because_the_connection_goes_to_the_vetted_address(receiver_factory, monkeypatch):
    """DNS answers an allowed address first and a forbidden one on every later lookup. The system
    resolver itself is faked (an external service), so a client that looked the name up again
    when connecting would reach the second canary; ours connects to the address it vetted."""
    public = receiver_factory(host="127.77.0.3")                 # stands in for a public address
    rebound = Canary(socket.AF_INET, "127.0.0.1", public.port)   # the internal service the attacker wants
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "rebind.devsignal.test":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.77.0.3" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    try:
        url = f"http://rebind.devsignal.test:{public.port}/hooks"
        with monkeypatch.context() as patch:
            patch.setattr(socket, "getaddrinfo", lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "",
                                                                   ("127.77.0.3", a[1]))])
            commands.register_endpoint(ADMIN, url, ["deal.created"])   # registration sees the public answer
        monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
        [delivery_id] = deliveries.enqueue("deal.created", {"deal_id": 7}, "deal.created:7", now=T0)

        run = deliveries.deliver_due(now=T0)

        assert run.delivered == 1 and len(lookups) == 1             # one lookup: vetted and connected alike
        lookups_for_the_delivered_attempt = len(lookups)
        assert len(public.requests) == 1 and public.requests[0].headers["host"] == f"rebind.devsignal.test:{public.port}"
        assert deliveries.attempts(delivery_id)[0]["peer"] == "127.77.0.3"
        # the next attempt looks the name up again, gets the internal address, and refuses it
        deliveries.enqueue("deal.created", {"deal_id": 8}, "deal.created:8", now=T0)
        second = deliveries.deliver_due(now=T0)
        assert (second.attempted, second.delivered) == (1, 0)
        time.sleep(0.2)
        assert rebound.hits == 0
        print(f"\n[R18] DNS rebinding: {lookups_for_the_delivered_attempt} lookup per attempt, vetted address 1 request, "
              f"rebound address {rebound.hits} hits; the next attempt refused the rebound answer")
    finally:
        rebound.close()


def test_a_redirect_to_the_metadata_ip_or_loopback_is_not_followed(receiver_factory, canary):
    to_metadata = receiver_factory(lambda r: (302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
                                   host="127.77.0.4")
    to_canary = receiver_factory(lambda r: (302, {"Location": f"http://127.0.0.1:{canary.port}/"}), host="127.77.0.4")
    for receiver in (to_metadata, to_canary):
        commands.register_endpoint(ADMIN, receiver.url(), ["deal.created"])
    ids = deliveries.enqueue("deal.created", {"deal_id": 3}, "deal.created:3", now=T0)

    run = deliveries.deliver_due(now=T0)

    assert (run.attempted, run.delivered, run.retrying) == (2, 0, 2)
    errors = [deliveries.attempts(i)[0]["error"] for i in ids]
    assert "redirect to 'http://169.254.169.254/latest/meta-data/': webhooks do not follow redirects" in errors[0]
    assert f"redirect to 'http://127.0.0.1:{canary.port}/'" in errors[1]
    time.sleep(0.2)
    assert canary.hits == 0 and len(to_metadata.requests) == len(to_canary.requests) == 1


def test_https_checks_the_certificate_against_the_hostname_while_connecting_to_the_vetted_ip(tmp_path):
    """TLS: SNI and the certificate check use the URL's hostname, not the pinned IP."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.devsignal.test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.devsignal.test")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["content-length"]))
            seen.append(self.headers["host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.77.0.5", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        answer = one_answer("127.77.0.5")
        response = ssrf.post(f"https://hooks.devsignal.test:{port}/in", b"{}", {"content-type": "application/json"},
                             resolver=answer, ca_certs=str(cert_file))
        assert (response.status, response.peer, seen) == (204, "127.77.0.5", [f"hooks.devsignal.test:{port}"])
        # the same server under another name: the certificate does not match, nothing is sent
        import urllib3

        with pytest.raises(urllib3.exceptions.SSLError):
            ssrf.post(f"https://other.devsignal.test:{port}/in", b"{}", {}, resolver=answer, ca_certs=str(cert_file))
        assert len(seen) == 1
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("spelling, address", [
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("0x7f.0.0.1", "127.0.0.1"), ("0177.0.0.01", "127.0.0.1"), ("10.1", "10.0.0.1"), ("0xa9fea9fe", "169.254.169.254"),
    ("[::ffff:a9fe:a9fe]", "::ffff:169.254.169.254"), ("example.com", None), ("1e100.net", None),
])
def test_ip_spellings_are_read_like_inet_aton(spelling, address):
    parsed = ssrf.ip_literal(spelling)
    assert parsed == (None if address is None else ipaddress.ip_address(address))


def test_only_global_unicast_passes_and_the_allow_list_is_explicit(monkeypatch):
    assert ssrf.vet("https://93.184.216.34/x").addresses == ("93.184.216.34",)
    assert ssrf.vet("http://[2606:4700::1111]:8080/").addresses == ("2606:4700::1111",)
    for bad in ("http://[64:ff9b::a00:5]/", "http://[2002:a00:5::1]/", "http://192.0.0.192/", "http://240.0.0.1/",
                "http://255.255.255.255/", "http://[fe80::1]/", "http://[ff02::1]/", "http://198.18.0.1/"):
        with pytest.raises(ssrf.UnsafeWebhookURL, match="webhook URL refused"):
            ssrf.vet(bad)
    for bad, reason in [("ftp://x.example/", "scheme ftp:// is not allowed"), ("http://u:p@x.example/", "credentials"),
                        ("http:///x", "has no host"), ("http://999.1.1.1/", "not a valid one"), ("", "is required")]:
        with pytest.raises(ssrf.UnsafeWebhookURL, match=reason):
            ssrf.vet(bad)
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "10.20.0.0/16")
    assert ssrf.vet("http://10.20.3.4:9000/in").addresses == ("10.20.3.4",)
    with pytest.raises(ssrf.UnsafeWebhookURL, match="10.21.0.1 is a private address"):
        ssrf.vet("http://10.21.0.1/")
    monkeypatch.setenv("DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE", "10.20.0.0/16, not-a-cidr")
    with pytest.raises(ValueError, match="DEVSIGNAL_WEBHOOK_ALLOW_PRIVATE: 'not-a-cidr' is not a CIDR"):
        ssrf.vet("http://10.20.3.4/")


def test_unicode_hostnames_and_paths_are_sent_as_punycode_and_percent_encoding(receiver_factory):
    receiver = receiver_factory(host="127.77.0.6")
    answer = one_answer("127.77.0.6")
    commands.register_endpoint(ADMIN, f"http://bücher.devsignal.test:{receiver.port}/hooks/ünï code?x=1",
                               ["deal.created"], resolver=answer)
    deliveries.enqueue("deal.created", {"deal_id": 1}, "deal.created:1", now=T0)
    assert deliveries.deliver_due(now=T0, resolver=answer).delivered == 1
    [request] = receiver.requests
    assert request.path == "/hooks/%C3%BCn%C3%AF%20code?x=1"
    assert request.headers["host"] == f"xn--bcher-kva.devsignal.test:{receiver.port}"
