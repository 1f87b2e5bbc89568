"""Where a deploy command acts: AWS in the stage's region, or a local stack on loopback.

The stage's region (BLOG_REGION) is the only region anything uses: the clients made here,
the environment the `chalice` subprocess gets, and `blogctl --stage` commands (cli.connect).
A local endpoint is only ever used when it is given explicitly (the rehearsal); an
AWS_ENDPOINT_URL left in the environment is a preflight failure, never silently followed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL"  # botocore also reads AWS_ENDPOINT_URL_<SERVICE>
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# A local stack accepts any credentials: these, so no real ones are ever sent to it.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing"}


def is_loopback(url: str) -> bool:
    """Does `url` point at this machine?"""
    return urlsplit(url).hostname in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Target:
    """AWS (no endpoint) or a local stack (a loopback endpoint), in one region."""

    region: str
    endpoint_url: str | None = None
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.endpoint_url and not is_loopback(self.endpoint_url):
            raise ValueError(f"{self.endpoint_url} is not a local stack: only loopback endpoints are allowed")

    @property
    def local(self) -> bool:
        """Is this the local stack?"""
        return self.endpoint_url is not None

    @property
    def where(self) -> str:
        """'AWS (us-east-1)' or 'the local stack at http://…'."""
        return f"the local stack at {self.endpoint_url}" if self.local else f"AWS ({self.region})"

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client for `service` here, in the stage's region unless the service needs another."""
        key = (service, region or self.region)
        if key not in self._clients:
            credentials = {k.lower(): v for k, v in LOCAL_CREDENTIALS.items()} if self.local else {}
            session = boto3.session.Session(region_name=key[1], **credentials)
            self._clients[key] = session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[key]

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a subprocess (chalice) that must act here and only here."""
        env = {k: v for k, v in (os.environ if base is None else base).items()
               if not k.startswith(ENDPOINT_VARIABLE)}
        env.update({name: self.region for name in REGION_VARIABLES})
        if self.endpoint_url:
            env = {k: v for k, v in env.items() if k != "AWS_PROFILE"}
            env.update({ENDPOINT_VARIABLE: self.endpoint_url, **LOCAL_CREDENTIALS})
        return env

