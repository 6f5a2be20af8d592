"""boto3 clients for the CLI and local runs, pointed at moto when asked.

`--endpoint-url` or `CLUBSYNC_AWS_ENDPOINT_URL` sends every client to one endpoint (moto's
server on 127.0.0.1); without either, boto3's normal configuration applies. Lambda handlers
create their own clients (they never talk to moto except in tests, where moto patches boto3).
"""

from __future__ import annotations

import os
from typing import Any

ENDPOINT_ENV = "CLUBSYNC_AWS_ENDPOINT_URL"
LOCAL_REGION = "us-east-1"


class AwsNotConfigured(Exception):
    """This machine has no AWS set-up the command needs (a region, credentials). The CLI shows
    the message as its one line of error (clubsync.cli.main) instead of botocore's traceback."""


class AwsRegionMissing(AwsNotConfigured):
    def __init__(self) -> None:
        super().__init__(
            "No AWS region configured: export AWS_REGION (or AWS_DEFAULT_REGION), e.g. "
            "us-east-1, or set one in your AWS profile (aws configure); for moto give "
            "--endpoint-url."
        )


def endpoint_url(explicit: str | None = None) -> str | None:
    return explicit or os.environ.get(ENDPOINT_ENV) or None


def aws_client(service: str, endpoint: str | None = None, region: str | None = None) -> Any:
    """A boto3 client; against a local endpoint it gets dummy credentials and a region so it
    never looks for real ones."""
    import boto3  # imported here: the CLI's other commands should not pay for it

    url = endpoint_url(endpoint)
    if url is None:
        # botocore reads only AWS_DEFAULT_REGION; AWS_REGION is what people (and Lambda) set.
        # Checked first: boto3 would look for credentials (instance metadata, seconds on a
        # laptop) before failing on the region with a traceback.
        region = region or os.environ.get("AWS_REGION") or boto3.session.Session().region_name
        if not region:
            raise AwsRegionMissing()
        return boto3.client(service, region_name=region)
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
