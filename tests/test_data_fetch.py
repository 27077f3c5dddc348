"""Verified, cached, resumable downloads, tested against a real HTTP server on loopback."""
import hashlib
import http.server
import json
import threading

import pytest

from autograder.data import cache, fetch, manifest, provision

PAYLOAD = bytes(range(256)) * 400          # 100 KiB
SHA = "sha256:" + hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """Serves PAYLOAD at /<name>; ``mode`` = full | truncate | corrupt; honours Range."""

    def __init__(self):
        self.mode = "full"
        self.requests: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(PAYLOAD)))
                self.end_headers()

            def do_GET(self):
                outer.requests.append({"path": self.path, "range": self.headers.get("Range")})
                body = PAYLOAD if outer.mode != "corrupt" else PAYLOAD[::-1]
                start = 0
                if self.headers.get("Range"):
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                chunk = body[start:]
                if outer.mode == "truncate":
                    chunk = chunk[: len(chunk) // 3]
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


@pytest.fixture
def entries(monkeypatch, server, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.OFFLINE_ENV, raising=False)
    monkeypatch.delenv(cache.MIRROR_ENV, raising=False)
    made = {
        "tiny": manifest.Entry("tiny", f"{server.url}/tiny.bin", SHA, "dataset", "tiny.bin", "test data",
                               keras_path="datasets/tiny.bin"),
        "tiny_wrong_hash": manifest.Entry("tiny_wrong_hash", f"{server.url}/wrong.bin", "sha256:" + "0" * 64,
                                          "dataset", "wrong.bin", "test data"),
        "tiny_unpinned": manifest.Entry("tiny_unpinned", f"{server.url}/unpinned.bin", None, "dataset",
                                        "unpinned.bin", "test data", torch_path="hub/checkpoints/unpinned.bin"),
    }
    for name, entry in made.items():
        monkeypatch.setitem(manifest.REGISTRY, name, entry)
    return made


def test_download_is_verified_and_cached(entries, server):
    path = fetch.fetch("tiny", progress=False)
    assert path.read_bytes() == PAYLOAD
    n = len(server.requests)
    assert fetch.fetch("tiny", progress=False) == path
    assert len(server.requests) == n, "a verified cached file must not be downloaded again"


def test_hash_mismatch_is_refused_and_nothing_is_cached(entries):
    with pytest.raises(fetch.DataIntegrityError) as err:
        fetch.fetch("tiny_wrong_hash", progress=False)
    assert "tiny_wrong_hash" in str(err.value) and "expected sha256:000" in str(err.value)
    assert not cache.file_path("wrong.bin").exists()


def test_truncated_download_is_detected_then_resumed(entries, server):
    server.mode = "truncate"
    with pytest.raises((fetch.IncompleteDownloadError, fetch.DataIntegrityError)):
        fetch.fetch("tiny", progress=False)
    assert not cache.file_path("tiny.bin").exists()
    part = cache.part_path("tiny.bin")
    assert part.exists() and 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    server.mode = "full"
    path = fetch.fetch("tiny", progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests[-1]["range"] == f"bytes={kept}-"   # resumed, not restarted


def test_offline_missing_file_says_how_to_fetch(entries, monkeypatch, server):
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    with pytest.raises(fetch.DataMissingError, match="python -m autograder fetch tiny"):
        fetch.fetch("tiny", progress=False)
    assert server.requests == []


def test_offline_uses_a_verified_cached_file_without_network(entries, monkeypatch, server):
    fetch.fetch("tiny", progress=False)
    n = len(server.requests)
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    assert fetch.fetch("tiny", progress=False).read_bytes() == PAYLOAD
    assert len(server.requests) == n


def test_corrupt_cached_file_is_detected(entries, monkeypatch):
    path = fetch.fetch("tiny", progress=False)
    path.write_bytes(PAYLOAD[:-10] + b"0123456789")
    assert fetch.status("tiny") == "corrupt"
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    with pytest.raises(fetch.DataIntegrityError, match="tiny"):
        fetch.fetch("tiny", progress=False)
    monkeypatch.delenv(cache.OFFLINE_ENV)
    with pytest.warns(UserWarning, match="downloading it again"):
        assert fetch.fetch("tiny", progress=False).read_bytes() == PAYLOAD


def test_unpinned_entries_need_pin_and_are_then_verified(entries, monkeypatch):
    with pytest.raises(fetch.PinRequiredError, match="--pin"):
        fetch.fetch("tiny_unpinned", progress=False)
    path = fetch.fetch("tiny_unpinned", pin=True, progress=False)
    pins = json.loads(cache.pins_path().read_text())
    assert pins["tiny_unpinned"] == SHA
    path.write_bytes(b"tampered")
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    with pytest.raises(fetch.DataIntegrityError):
        fetch.fetch("tiny_unpinned", progress=False)


def test_mirror_redirects_downloads(entries, monkeypatch, server):
    monkeypatch.setitem(manifest.REGISTRY, "tiny", manifest.Entry(
        "tiny", "https://example.invalid/tiny.bin", SHA, "dataset", "tiny.bin", "test data"))
    monkeypatch.setenv(cache.MIRROR_ENV, server.url + "/mirror")
    assert fetch.fetch("tiny", progress=False).read_bytes() == PAYLOAD
    assert server.requests[-1]["path"] == "/mirror/tiny.bin"


def test_provisioning_fills_framework_caches_and_refuses_corrupt_files(entries, tmp_path):
    fetch.fetch("tiny", progress=False)
    fetch.fetch("tiny_unpinned", pin=True, progress=False)
    report = provision.provision_keras_cache(["tiny"], keras_home=tmp_path / "keras")
    assert (tmp_path / "keras" / "datasets" / "tiny.bin").read_bytes() == PAYLOAD and report.ok
    torch_report = provision.provision_torch_cache(["tiny_unpinned"], torch_home=tmp_path / "torch")
    assert (tmp_path / "torch" / "hub" / "checkpoints" / "unpinned.bin").exists() and torch_report.ok
    cache.file_path("tiny.bin").write_bytes(b"corrupt")
    (tmp_path / "keras" / "datasets" / "tiny.bin").unlink()
    bad = provision.provision_keras_cache(["tiny"], keras_home=tmp_path / "keras")
    assert "tiny" in bad.refused and not (tmp_path / "keras" / "datasets" / "tiny.bin").exists()
    missing = provision.provision_keras_cache(["mnist"], keras_home=tmp_path / "keras")
    assert "mnist" in missing.missing


@pytest.mark.parametrize("name", ["mnist", "cifar10", "flowers", "chest_xray", "vgg16", "vgg16_notop",
                                  "inception_v3", "resnet50", "torchvision_alexnet",
                                  "torchvision_googlenet", "torchvision_resnet50"])
def test_manifest_lists_every_file_the_course_uses(name):
    entry = manifest.entry(name)
    assert entry.url.startswith("https://")
    if name in ("flowers", "chest_xray"):
        assert entry.known_hash is None and "pin" in entry.note   # no upstream hash: pinned on first fetch
    else:
        assert entry.known_hash.split(":")[0] in {"sha256", "md5", "sha256-prefix"}
    assert entry.licence


def test_torchvision_dataset_files_are_provisioned_under_a_dataset_root(entries, monkeypatch, server, tmp_path):
    import gzip
    body = gzip.compress(PAYLOAD, mtime=0)
    monkeypatch.setattr(server, "mode", "full")
    monkeypatch.setitem(manifest.REGISTRY, "tiny_gz", manifest.Entry(
        "tiny_gz", f"{server.url}/tiny.gz", "sha256:" + hashlib.sha256(body).hexdigest(), "dataset",
        "train-images-idx3-ubyte.gz", "test data", torchvision_path="MNIST/raw/train-images-idx3-ubyte.gz"))
    cache.file_path("train-images-idx3-ubyte.gz").write_bytes(body)   # as if fetched
    report = provision.provision_torch_cache(["tiny_gz"], torch_home=tmp_path / "torch",
                                             dataset_root=tmp_path / "data")
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert report.ok and (raw / "train-images-idx3-ubyte.gz").read_bytes() == body
    assert (raw / "train-images-idx3-ubyte").read_bytes() == PAYLOAD


def test_provisioning_an_unpinned_entry_reports_it_missing(entries, tmp_path):
    report = provision.provision_torch_cache(["tiny_unpinned"], torch_home=tmp_path / "torch")
    assert "tiny_unpinned" in report.missing and not report.ok
