"""Chalice's own CLI, whose deployment zip gets its modules' bytecode before it is uploaded.

`make deploy` runs `python -m blogctl.chalicecli deploy --stage <stage>`: the same command as
`chalice deploy --stage <stage>`, with one change (and a check). `chalice deploy` uploads the zip it built
(or reused: `.chalice/deployments/<hash>-python3.X.zip`, the hash of requirements.txt,
app.py, chalicelib/ and vendor/) as it is, sources only, so every cold start would compile
every module. Here the one method that makes that zip, Chalice 1.34's
`LambdaDeploymentPackager.create_deployment_package`, gives it its bytecode (blogctl/bytecode.py)
before it returns the zip's name: Chalice reads the zip to upload it only after that. The
zip's size is checked there too, against `make package`'s limit (deploy.MAX_ZIP_BYTES).

The cached zip is rewritten in place. That is safe: Chalice reuses it only while its hash (of
every file the zip takes from the project) is the same, and each deploy drops the zip's pycs
and compiles them again, so they always match the sources uploaded with them (even if a later
Chalice called its `inject_latest_app`, which 1.34 never does: it keeps a cached zip's other
files and replaces only app.py, chalicelib/ and chalice/). With Chalice's `automatic_layer`
(not used here) other packagers make the zips, and they would get no bytecode:
tests/test_chalicecli.py would fail. A plain `chalice deploy` still works, without the bytecode.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from chalice import cli
from chalice.deploy.packager import LambdaDeploymentPackager

from blogctl import bytecode, deploy

CreatePackage = Callable[[LambdaDeploymentPackager, str, str], str]


def give_bytecode(filename: str, python_version: str) -> None:
    """Add the modules' bytecode to the zip Chalice will upload, and check its size (`make package`'s
    limit, deploy.MAX_ZIP_BYTES); exit (nothing uploaded) if it cannot or the zip is too big."""
    try:
        bytecode.check_runtimes({"every function": python_version})
        done = [f"Bytecode: {line}." for line in bytecode.add_bytecode(Path(filename))]
        done += [f"Size: {line}." for line in deploy.check_zip(Path(filename), deploy.MAX_ZIP_BYTES)]
    except bytecode.FAILURES as err:
        # SystemExit passes Chalice's `except Exception` (a traceback, status 2): our message, status 1
        raise SystemExit(f"bytecode: {err}\nnothing was deployed") from err
    except deploy.StepFailed as err:
        raise SystemExit(f"{err}\nnothing was deployed") from err
    for line in done:
        print(line, flush=True)  # beside Chalice's "Creating deployment package."


def with_bytecode(create: CreatePackage) -> CreatePackage:
    """Chalice's create_deployment_package, the zip it returns (built or reused) given its bytecode."""
    def create_deployment_package(self: LambdaDeploymentPackager, project_dir: str, python_version: str) -> str:
        filename = create(self, project_dir, python_version)
        give_bytecode(filename, python_version)
        return filename
    return create_deployment_package


@contextlib.contextmanager
def bytecode_in_zips() -> Iterator[None]:
    """While inside, every zip Chalice's deploy (or package) makes in this process gets its bytecode."""
    create = LambdaDeploymentPackager.create_deployment_package
    LambdaDeploymentPackager.create_deployment_package = with_bytecode(create)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        LambdaDeploymentPackager.create_deployment_package = create  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """`python -m blogctl.chalicecli deploy --stage dev`: Chalice's CLI, with the bytecode."""
    sys.argv = ["chalice", *(sys.argv[1:] if argv is None else argv)]  # click reads them; usage says chalice
    with bytecode_in_zips():
        return cli.main()


if __name__ == "__main__":
    sys.exit(main())
