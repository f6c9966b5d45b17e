"""banyan-server over HTTPS: TLS 1.3 with the configured certificate and key, TLS 1.2 and
older refused unless allowed, plain HTTP on the TLS port answered with nothing, HSTS on
every answer, credentials still required, and a certificate that cannot be used is a
clear error at start. Python's ssl module is the client; openssl makes the certificates."""
import http.client
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

SERVER = os.environ["BANYAN_SERVER"]


def make_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def start(scratch, *flags):
    proc = subprocess.Popen([SERVER, "--listen", "127.0.0.1:0", "--database",
                             "sqlite://" + os.path.join(scratch, "banyan.db"), "--threads", "2", "--no-messaging",
                             *flags], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"listening on https://127\.0\.0\.1:(\d+)", line)
        if found:
            return proc, int(found.group(1))
    proc.kill()
    raise AssertionError("banyan-server did not start over https: " + (proc.stdout.read() or ""))


def client(cert, maximum=None, minimum=None):
    ctx = ssl.create_default_context(cafile=cert)
    if maximum:
        ctx.maximum_version = maximum
    if minimum:
        ctx.minimum_version = minimum
    return ctx


def get(port, ctx, path="/healthz", headers=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    conn.request("GET", path, headers=headers or {})
    reply = conn.getresponse()
    body = reply.read()
    version = conn.sock.version()
    conn.close()
    return reply.status, dict((k.lower(), v) for k, v in reply.getheaders()), body, version


@pytest.fixture(scope="module")
def scratch():
    return tempfile.mkdtemp(prefix="banyan_tls_")


@pytest.fixture(scope="module")
def tls13(scratch):
    cert, key = make_certificate(scratch, "server")
    proc, port = start(scratch, "--tls-cert", cert, "--tls-key", key)
    yield port, cert
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def test_tls13_serves_with_the_certificate_and_hsts(tls13):
    port, cert = tls13
    status, headers, _, version = get(port, client(cert))
    assert (status, version) == (200, "TLSv1.3")
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    # Credentials are still required over TLS.
    status, headers, _, _ = get(port, client(cert), "/v1/contacts")
    assert status == 401 and headers["strict-transport-security"]


def test_tls12_and_older_are_refused_by_default(tls13):
    port, cert = tls13
    with pytest.raises(ssl.SSLError):
        get(port, client(cert, maximum=ssl.TLSVersion.TLSv1_2))


def test_plain_http_on_the_tls_port_gets_no_answer(tls13):
    port, _ = tls13
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        try:
            while chunk := s.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
    assert b"HTTP/1.1 200" not in answer and b"healthz" not in answer


def test_an_untrusted_certificate_is_refused_by_the_client(tls13, scratch):
    port, _ = tls13
    other, _ = make_certificate(scratch, "other")
    with pytest.raises(ssl.SSLCertVerificationError):
        get(port, client(other))


def test_tls12_when_allowed_and_hsts_configurable(scratch):
    cert, key = make_certificate(scratch, "twelve")
    proc, port = start(scratch, "--tls-cert", cert, "--tls-key", key, "--tls-min-version", "1.2",
                       "--hsts-max-age", "0s")
    try:
        status, headers, _, version = get(port, client(cert, maximum=ssl.TLSVersion.TLSv1_2))
        assert (status, version) == (200, "TLSv1.2")
        assert "strict-transport-security" not in headers
        # (Below 1.2 the server sets no_tlsv1 and no_tlsv1_1; this machine's OpenSSL will not
        # offer them as a client either, so that refusal cannot be shown from here.)
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0


def test_a_key_that_does_not_match_or_a_missing_file_stops_the_start(scratch):
    cert, _ = make_certificate(scratch, "mismatch-a")
    _, other_key = make_certificate(scratch, "mismatch-b")
    for flags in (["--tls-cert", cert, "--tls-key", other_key],
                  ["--tls-cert", os.path.join(scratch, "missing.pem"), "--tls-key", other_key],
                  ["--tls-cert", cert]):
        run = subprocess.run([SERVER, "--listen", "127.0.0.1:0", "--database",
                              "sqlite://" + os.path.join(scratch, "refused.db"), *flags],
                             capture_output=True, text=True, timeout=30)
        assert run.returncode != 0, flags
        assert "tls" in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
