"""What every layer shares and nothing else: the error a user can fix, and the syntax of
references to values kept elsewhere.

It sits below the settings and the libraries alike, so both raise `ConfigError` and read
`ssm:` references without importing each other.
"""

SSM_PREFIX = "ssm:"  # `ssm:/name`: an SSM Parameter Store parameter
ENV_PREFIX = "env:"  # `env:NAME`: an environment variable


class ConfigError(ValueError):
    """A configuration problem, worded for the person who edits the file."""
