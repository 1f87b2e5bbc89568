"""Lazily created, cached boto3 clients.

Creating a client costs tens of milliseconds, so each is made on first use and kept
for the life of the Lambda container. The endpoint comes from the settings, so the
same code talks to AWS or to the local moto stack.
"""
from __future__ import annotations

import functools
from typing import Any

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config

from chalicelib.config import get_settings

# Standard mode retries throttling and transient errors with backoff; the request
# path must answer quickly, so a few attempts is the most we wait for.
_RETRIES = {"mode": "standard", "max_attempts": 4}


@functools.lru_cache(maxsize=1)
def _loader() -> botocore.loaders.Loader:
    """botocore's model loader, shared: parsing the service models is most of a client's cost."""
    return botocore.loaders.create_loader()


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    """The cached boto3 client for `service` ("s3", "dynamodb", "sqs")."""
    settings = get_settings()
    core = botocore.session.Session()
    core.register_component("data_loader", _loader())
    return boto3.session.Session(botocore_session=core).client(
        service,
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=Config(retries=_RETRIES, connect_timeout=3, read_timeout=10,
                      # Signed asset URLs: SigV4 (botocore would sign them SigV2 in us-east-1).
                      signature_version="s3v4" if service == "s3" else None),
    )


def reset() -> None:
    """Drop cached clients (after the settings or the endpoint change)."""
    client.cache_clear()
