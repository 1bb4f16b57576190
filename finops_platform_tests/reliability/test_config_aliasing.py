"""Config cannot alias another tenant or the platform (issue 16, section 2).

Each case passed validation before and let the second tenant load the first tenant's real sample
(119,307 rows, 4,064.48) as its own. Now `finops config validate` and `finops run` refuse it with
one line naming both tenants (or the platform) and the field, and nothing is loaded.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from finops_platform.cli import main
from finops_platform.lake import CENTRAL, database_name, workgroup_name
from finops_platform.lib.store.s3 import S3ObjectStore
from finops_platform.settings import TenantsConfig, load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry

LEGACY = {"cur_format": "legacy", "first_billing_month": "2018-10"}


def finops(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def refused_everywhere(finops_home: Path, *words: str) -> None:
    """`config validate` and `run` exit 2 with one line naming `words`; beta loaded nothing."""
    for command in (["config", "validate"], ["run", "--tenant", "beta", "--month", "2018-10"]):
        code, output = finops(*command)
        assert code == 2, (command, output)
        (line,) = output.strip().splitlines()
        assert all(word in line for word in words), line
    assert not (finops_home / "buckets/finops-lake/custos/cur/org=beta").exists()


# Each builder returns alpha's and beta's source_path given (tmp_path, finops_home, real sample).
Aliases = Callable[[Path, Path, Path], tuple[str, str]]


def _relative_and_absolute(tmp: Path, _home: Path, sample: Path) -> tuple[str, str]:
    (tmp / "alpha").symlink_to(sample, target_is_directory=True)
    return "alpha", str(tmp / "alpha")


def _symlink(tmp: Path, _home: Path, sample: Path) -> tuple[str, str]:
    (tmp / "looks_like_beta").symlink_to(sample, target_is_directory=True)
    return str(sample), str(tmp / "looks_like_beta")


def _s3_and_its_mirror(_tmp: Path, home: Path, sample: Path) -> tuple[str, str]:
    mirror = home / "buckets" / "raw" / "alpha"
    shutil.copytree(sample, mirror)  # the store refuses a bucket symlinked out of its root
    return "s3://raw/alpha/", str(mirror)


def _nested_through_a_symlink(tmp: Path, _home: Path, sample: Path) -> tuple[str, str]:
    shutil.copytree(sample, tmp / "all" / "alpha")
    (tmp / "elsewhere").symlink_to(tmp / "all", target_is_directory=True)
    return str(tmp / "all" / "alpha"), str(tmp / "elsewhere")


@pytest.mark.parametrize(
    "aliases",
    [_relative_and_absolute, _symlink, _s3_and_its_mirror, _nested_through_a_symlink],
    ids=["relative-and-absolute", "symlink", "s3-and-its-mirror", "nested-via-symlink"],
)
def test_a_second_tenant_cannot_load_the_first_tenants_data_through_an_alias(
    aliases: Aliases,
    real_sample: Path,
    finops_home: Path,
    write_config: WriteConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative path also resolved before
    alpha, beta = aliases(tmp_path, finops_home, real_sample)
    write_config([tenant_entry("alpha", alpha, **LEGACY), tenant_entry("beta", beta, **LEGACY)])
    refused_everywhere(finops_home, "'alpha'", "'beta'", "source_path")


def test_relative_source_paths_resolve_against_the_config_files_folder(
    finops_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    config = config_dir / "tenants_config.json"
    config.write_text(json.dumps([tenant_entry("alpha", "exports/alpha")]), encoding="utf-8")
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(config)
    assert settings.tenants.get("alpha").source_path == str(config_dir / "exports" / "alpha")
    assert os.getcwd() == str(elsewhere)


@pytest.mark.parametrize(
    ("field", "value", "platform_field"),
    [
        ("glue_db", database_name(CENTRAL), "central_database"),
        ("athena_workgroup", workgroup_name(CENTRAL), "central_workgroup"),
    ],
)
def test_a_tenant_cannot_take_the_platforms_names(
    field: str,
    value: str,
    platform_field: str,
    finops_home: Path,
    write_config: WriteConfig,
    tmp_path: Path,
) -> None:
    write_config([tenant_entry("beta", tmp_path / "b", **{field: value})])
    code, output = finops("config", "validate")
    assert code == 2, output
    assert f"tenant 'beta': {field} {value!r} is the platform's {platform_field}" in output


def test_a_tenant_named_central_would_default_to_the_central_names(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config([tenant_entry(CENTRAL, tmp_path / "c")])
    code, output = finops("config", "validate")
    assert code == 2, output
    assert f"tenant {CENTRAL!r}: glue_db {database_name(CENTRAL)!r}" in output


def test_collisions_between_tenants_name_both_and_the_field(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    for field, value, words in (
        ("glue_db", "shared_db", "database (glue_db) 'shared_db'"),
        ("athena_workgroup", "wg_shared", "workgroup (athena_workgroup) 'wg_shared'"),
    ):
        write_config(
            [
                tenant_entry("alpha", tmp_path / "a", **{field: value}),
                tenant_entry("beta", tmp_path / "b", **{field: value}),
            ]
        )
        code, output = finops("config", "validate")
        assert code == 2, output
        assert words in output and "'alpha'" in output and "'beta'" in output


def test_an_s3_prefix_is_a_folder_not_a_string_prefix(aws: str) -> None:
    """`s3://raw/alpha` (no trailing slash) must not list `s3://raw/alphabet/...`."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="raw")
    s3.put_object(Bucket="raw", Key="alpha/report/a.parquet", Body=b"alpha")
    s3.put_object(Bucket="raw", Key="alphabet/report/b.parquet", Body=b"another tenant")
    tenants = TenantsConfig.model_validate(
        [tenant_entry("alpha", "s3://raw/alpha"), tenant_entry("alphabet", "s3://raw/alphabet")]
    )
    store = S3ObjectStore(region="us-east-1")
    listed = [o.uri for o in store.list_objects(tenants.get("alpha").source_path)]
    assert listed == ["s3://raw/alpha/report/a.parquet"]
