"""`chalice local` as the local stack runs it: autoreload on code only, and gone with its parent."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from blogctl import devserver
from blogctl.stage import PROJECT_DIR

EXIT_TIMEOUT = 10


def project(tmp_path):
    files = ["app.py", "chalicelib/site.py", "chalicelib/templates/post.html", ".chalice/config.json",
             "chalicelib/__pycache__/site.cpython-311.pyc", "content/posts/a.md", ".local/state/moto-state.pickle",
             ".venv/lib/x.py", "tests/test_x.py", "README.md"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return tmp_path


def test_only_code_is_watched(tmp_path):
    root = project(tmp_path)
    found = sorted(os.path.relpath(p, root) for p in devserver.code_files(str(root)))
    assert found == [".chalice/config.json", "app.py", "chalicelib/site.py", "chalicelib/templates/post.html"]


def test_an_edit_under_content_does_not_restart_the_server_and_one_in_chalicelib_does(tmp_path, monkeypatch):
    from chalice.cli import reloader

    root = project(tmp_path)
    monkeypatch.setattr(reloader, "get_best_worker_process", reloader.get_best_worker_process)  # restored after
    devserver.install_code_watcher()
    assert reloader.get_best_worker_process() is devserver.CodeWorkerProcess
    watcher, restarts = devserver.CodeFileWatcher(), []
    watcher._seed_mtime_cache(str(root))
    later = time.time() + 10
    os.utime(root / "content/posts/a.md", (later, later))
    (root / "content/posts/new.md").write_text("new")
    os.utime(root / ".local/state/moto-state.pickle", (later, later))
    watcher._single_pass_poll(str(root), lambda: restarts.append("restart"))
    assert restarts == []
    os.utime(root / "chalicelib/site.py", (later, later))
    watcher._single_pass_poll(str(root), lambda: restarts.append("restart"))
    assert restarts == ["restart"]


def test_it_exits_when_its_parent_goes():
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; from blogctl.devserver import exit_with_parent; "
                               "exit_with_parent(); time.sleep(60)"],
        cwd=PROJECT_DIR, stdin=subprocess.PIPE)
    time.sleep(0.5)
    assert child.poll() is None  # alive while its parent holds the pipe
    child.stdin.close()  # what the kernel does when the parent dies, however it dies
    assert child.wait(timeout=EXIT_TIMEOUT) == 0
