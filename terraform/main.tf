# The AWS estate of one environment. One file drives both sides: the tenants come from
# config/tenants_config.json and the environment from config/environments/<env>.json, the files
# the Python platform reads (finops_platform/settings.py), so a tenant added there is a
# `terraform apply` away from its database, workgroup and role.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  config_dir = "${path.module}/../config"
  tenants    = jsondecode(file(coalesce(var.tenants_config_path, "${local.config_dir}/tenants_config.json")))
  env        = jsondecode(file("${local.config_dir}/environments/${var.environment}.json"))

  # TenantConfig.active defaults to true: a tenant that does not say is active.
  active_tenants = { for t in local.tenants : t.org_id => t if try(t.active, true) }

  # EnvironmentSettings' defaults, for the keys an environment file leaves out.
  lake_root            = try(local.env.lake_root, "s3://finops-lake/")
  region               = try(local.env.region, "us-east-1")
  athena_results_root  = try(local.env.athena_results_root, "s3://finops-athena-results/")
  bytes_scanned_cutoff = try(local.env.athena_bytes_scanned_cutoff, 107374182400)
  central_database     = try(local.env.central_database, "custos_central_db")
  central_workgroup    = try(local.env.central_workgroup, "wg_custos_central")

  # `s3://bucket/optional/path/` -> `bucket`.
  lake_bucket    = split("/", trimprefix(local.lake_root, "s3://"))[0]
  results_bucket = split("/", trimprefix(local.athena_results_root, "s3://"))[0]
}

module "platform" {
  source = "./modules/platform"

  environment          = var.environment
  partition            = data.aws_partition.current.partition
  account_id           = data.aws_caller_identity.current.account_id
  region               = local.region
  lake_root            = local.lake_root
  lake_bucket          = local.lake_bucket
  results_bucket       = local.results_bucket
  athena_results_root  = local.athena_results_root
  bytes_scanned_cutoff = local.bytes_scanned_cutoff
  central_database     = local.central_database
  central_workgroup    = local.central_workgroup
  tenant_databases     = [for m in module.tenant : m.database]
  tenant_workgroups    = [for m in module.tenant : m.workgroup]
  tenant_sources       = [for t in local.active_tenants : t.source_path]
  tenants_config_json  = jsonencode(local.tenants)
  vpc_id               = var.vpc_id
  private_subnet_ids   = var.private_subnet_ids
  postgres_instance    = var.postgres_instance_class
  postgres_multi_az    = var.postgres_multi_az
}

module "tenant" {
  source   = "./modules/tenant"
  for_each = local.active_tenants

  org_id           = each.key
  glue_db          = try(each.value.glue_db, null)
  athena_workgroup = try(each.value.athena_workgroup, null)
  glue_crawler     = try(each.value.glue_crawler, false)

  partition            = data.aws_partition.current.partition
  account_id           = data.aws_caller_identity.current.account_id
  region               = local.region
  lake_root            = local.lake_root
  lake_bucket          = local.lake_bucket
  athena_results_root  = local.athena_results_root
  results_bucket       = local.results_bucket
  bytes_scanned_cutoff = local.bytes_scanned_cutoff
  kms_key_arn          = module.platform.kms_key_arn
  glue_security_config = module.platform.glue_security_configuration
  reader_principals = coalescelist(
    var.tenant_reader_principals,
    ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"],
  )
}
