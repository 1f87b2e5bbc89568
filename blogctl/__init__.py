"""blogctl: the blog's tools that are not deployed.

The local stack (`make run`), resource setup and deployment (`make deploy`), and the
editor's commands (`python -m blogctl --help`).
"""
