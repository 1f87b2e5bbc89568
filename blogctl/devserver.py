"""`chalice local` as the local stack runs it: `python -m blogctl.devserver --port 8000 --stage dev`.

Three things differ from a bare `chalice local`, none of them in what the app does:

1. API Gateway's greedy routes (blogctl/greedy.py), as on AWS.
2. Autoreload watches the code only (WATCHED: app.py, chalicelib/, .chalice/config.json).
   Chalice's reloader polls every file under the project, so an edit under content/, a
   snapshot of the stack's data, or .venv itself would restart the server and drop its caches.
   Its worker is started again as this module (Chalice re-runs `sys.argv`), so it keeps 1 and 2.
3. It exits when the process that started it dies (EXIT_WITH_PARENT): its stdin is a pipe
   from the local stack, and end-of-file means the stack is gone, however it went (Ctrl-C,
   a crash, `kill -9`). Nothing is then left holding the blog's port.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from chalice.cli.filewatch.stat import StatFileWatcher, StatWorkerProcess

WATCHED = ("app.py", "chalicelib", ".chalice/config.json")
SKIPPED_FOLDERS = ("__pycache__",)
EXIT_WITH_PARENT = "BLOG_DEVSERVER_EXIT_WITH_PARENT"  # set to 1: exit at end-of-file on stdin


def code_files(root: str) -> Iterator[str]:
    """The files whose change restarts the server."""
    for name in WATCHED:
        path = Path(root) / name
        if path.is_file():
            yield str(path)
        elif path.is_dir():
            for folder, subfolders, files in os.walk(path):
                subfolders[:] = [d for d in subfolders if d not in SKIPPED_FOLDERS]
                yield from (os.path.join(folder, f) for f in files if not f.endswith((".pyc", ".pyo")))


class CodeFileWatcher(StatFileWatcher):
    """Chalice's polling watcher, polling `code_files` only."""

    def _seed_mtime_cache(self, root_dir: str) -> None:
        for path in code_files(root_dir):
            self._mtime_cache[path] = self._osutils.mtime(path)

    def _recursive_walk_files(self, root_dir: str) -> Iterator[str]:
        return code_files(root_dir)


class CodeWorkerProcess(StatWorkerProcess):
    """Chalice's worker (the process that serves), restarted when code changes."""

    def _start_file_watcher(self, project_dir: str) -> None:
        CodeFileWatcher().watch_for_file_changes(project_dir, self._on_file_change)


def install_code_watcher() -> None:
    """Make Chalice's reloader use CodeWorkerProcess."""
    from chalice.cli import reloader

    reloader.get_best_worker_process = lambda: CodeWorkerProcess


def exit_with_parent(fd: int = 0) -> threading.Thread:
    """Exit this process when file descriptor `fd` (stdin) reaches end-of-file: its writer, the local stack, is gone."""

    def watch() -> None:
        # os.read, not sys.stdin: a thread blocked in a buffered reader would stop the
        # interpreter's own exit (the reloader's worker exits to be restarted).
        while os.read(fd, 1024):
            pass
        os._exit(0)  # no cleanup to wait for: the server thread only answers requests

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def main(argv: list[str]) -> int:
    """`chalice local <argv>` with greedy routes, code-only autoreload, and exit with the parent."""
    from chalice.cli import cli

    from blogctl import greedy

    greedy.install()
    install_code_watcher()
    if os.environ.get(EXIT_WITH_PARENT) == "1":
        exit_with_parent()
    # Chalice's reloader starts its worker by running sys.argv again: let that be this module.
    sys.argv = [sys.executable, "-m", "blogctl.devserver", *argv]
    return int(cli.main(args=["local", *argv], obj={}, prog_name="chalice", standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
