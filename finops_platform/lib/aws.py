"""boto3 clients and SSM reads, configured from the standard AWS environment.

Endpoints and credentials come from where every AWS tool takes them (AWS_ENDPOINT_URL,
AWS_REGION, AWS_PROFILE, instance roles), so tests point the same code at a moto server.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from finops_platform.core import ConfigError

# Throttling and 5xx answers are retried with backoff before an error reaches the pipeline.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 6})


def aws_client(service: str, region: str | None) -> Any:
    return boto3.session.Session(region_name=region).client(service, config=RETRIES)


def read_parameter(name: str, region: str | None) -> str:
    """An SSM parameter's value, SecureString decrypted. The value is never logged."""
    try:
        response = aws_client("ssm", region).get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        raise ConfigError(f"SSM parameter {name!r}: cannot read it ({code})") from None
    except BotoCoreError as exc:
        raise ConfigError(
            f"SSM parameter {name!r}: cannot reach SSM ({type(exc).__name__})"
        ) from None
    return response["Parameter"]["Value"]


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/a/b/` -> (`bucket`, `a/b/`)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key
