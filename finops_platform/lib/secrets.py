"""Secrets by reference, so that no secret sits in a config file or a log line.

A reference is `env:NAME` (an environment variable) or `ssm:/name` (an SSM Parameter Store
parameter, SecureString decrypted). Error messages name the reference, never the value.
"""

from __future__ import annotations

import os

from finops_platform.core import ENV_PREFIX, SSM_PREFIX, ConfigError
from finops_platform.lib.aws import read_parameter


def resolve_secret(reference: str, region: str | None) -> str | None:
    """The secret a reference names; None when an `env:` variable is unset."""
    if reference.startswith(SSM_PREFIX):
        return read_parameter(reference[len(SSM_PREFIX) :], region)
    if reference.startswith(ENV_PREFIX):
        return os.environ.get(reference[len(ENV_PREFIX) :]) or None
    raise ConfigError(f"secret reference {reference!r}: expected env:NAME or ssm:/name")
