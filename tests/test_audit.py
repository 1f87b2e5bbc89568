"""`make audit`: its content is valid, it covers the pages the issue names, and it fails a bad page."""
from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest

from blogctl import audit
from blogctl.stage import PROJECT_DIR
from chalicelib import images, posts

BAD_PAGE = b"""<!doctype html><html><head><title>x</title></head>
<body><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="600" height="400"><p style="color:#bbb">faint</p>
</body></html>"""


def test_audit_content_is_valid_and_its_images_are_sized(tmp_path):
    root = audit.write_content(tmp_path)
    for source in (root / "posts").glob("*.md"):
        post = posts.parse_post(f"posts/{source.name}", source.read_bytes())
        assert post.title and not post.draft, source
    chart = root / "assets" / "reading-the-figures"
    assert images.dimensions((chart / "chart.png").read_bytes()) == (960, 540)
    assert images.dimensions((chart / "chart-480w.png").read_bytes()) == (480, 270)
    assert images.variant_of("chart-480w.png") == ("chart.png", 480)
    assert len(list((root / "posts").glob("*.md"))) > 10  # more than a home page: the pager shows


def test_audit_covers_the_pages_readers_use():
    paths = {name: page if isinstance(page, str) else page["path"] for name, page in audit.PAGES.items()}
    assert {"home", "post", "tag", "search", "missing"} <= set(paths)
    assert audit.PAGES["missing"] == {"path": "/no-such-page", "status": 404}
    assert all(exception.startswith("missing:") for exception in audit.EXCEPTIONS)  # only the 404 page


def test_the_package_lock_pins_what_package_json_names():
    declared = json.loads((PROJECT_DIR / "package.json").read_text())["devDependencies"]
    locked = json.loads((PROJECT_DIR / "package-lock.json").read_text())["packages"]
    assert declared["lighthouse"] == "12.2.3"
    for name, version in declared.items():
        assert locked[f"node_modules/{name}"]["version"] == version, name
    # No install script anywhere (the `puppeteer` package's would download a browser).
    assert "node_modules/puppeteer" not in locked
    assert [key for key, package in locked.items() if package.get("hasInstallScript")] == []


@pytest.fixture
def bad_site():
    """A page with an unlabelled image and faint text, on a free port."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(BAD_PAGE)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_audit_fails_a_page_below_100(bad_site, tmp_path):
    chromium = os.environ.get("CHROME_PATH", audit.CHROMIUM)
    if not (Path(chromium).exists() and (PROJECT_DIR / "node_modules" / "lighthouse").is_dir()):
        if os.environ.get("BLOG_REQUIRE_BROWSER"):  # CI installs both: missing there is a failure
            pytest.fail("chromium and the audit's npm packages (npm ci) are not installed")
        pytest.skip("install Debian's chromium and run `npm ci` to run the audit's own test")
    done = subprocess.run(["node", str(audit.SCRIPT), "--base", bad_site, "--out", str(tmp_path),
                           "--pages", json.dumps({"bad": "/"})], cwd=PROJECT_DIR, capture_output=True, text=True,
                          env={**os.environ, "CHROME_PATH": chromium}, timeout=600)
    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    failures = "\n".join(summary["failures"])
    assert "bad mobile: accessibility" in failures and "image-alt" in failures
    assert "axe image-alt" in failures and "axe html-has-lang" in failures
    assert sorted(p.name for p in (tmp_path / "screenshots").iterdir()) == [
        "bad-1280-dark.png", "bad-1280-light.png", "bad-390-dark.png", "bad-390-light.png"]
