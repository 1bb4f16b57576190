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

  # The environment as both modules see it; a key the file leaves out takes the default
  # EnvironmentSettings gives it.
  lake_root           = try(local.env.lake_root, "s3://finops-lake/")
  region              = try(local.env.region, "us-east-1")
  athena_results_root = try(local.env.athena_results_root, "s3://finops-athena-results/")
  estate = {
    partition            = data.aws_partition.current.partition
    account_id           = data.aws_caller_identity.current.account_id
    region               = local.region
    lake_root            = local.lake_root
    athena_results_root  = local.athena_results_root
    bytes_scanned_cutoff = try(local.env.athena_bytes_scanned_cutoff, 107374182400)
    central_database     = try(local.env.central_database, "custos_central_db")
    central_workgroup    = try(local.env.central_workgroup, "wg_custos_central")
    slack_webhook        = try(local.env.slack_webhook, "env:FINOPS_SLACK_WEBHOOK_URL")
    # `s3://bucket/optional/path/` -> `bucket`.
    lake_bucket    = split("/", trimprefix(local.lake_root, "s3://"))[0]
    results_bucket = split("/", trimprefix(local.athena_results_root, "s3://"))[0]
  }
}

module "platform" {
  source = "./modules/platform"

  environment = var.environment
  estate      = local.estate
  tenants = {
    databases   = [for m in module.tenant : m.tenant.database]
    workgroups  = [for m in module.tenant : m.tenant.workgroup]
    sources     = [for t in local.active_tenants : t.source_path]
    config_json = jsonencode(local.tenants)
  }
  network  = { vpc_id = var.vpc_id, subnet_ids = var.private_subnet_ids }
  postgres = { instance_class = var.postgres_instance_class, multi_az = var.postgres_multi_az }
  dagster = {
    image                   = var.dagster_image
    webserver_clients       = var.dagster_webserver_clients
    slack_webhook_parameter = var.slack_webhook_parameter
  }
}

module "tenant" {
  source   = "./modules/tenant"
  for_each = local.active_tenants

  org_id           = each.key
  glue_db          = try(each.value.glue_db, null)
  athena_workgroup = try(each.value.athena_workgroup, null)
  glue_crawler     = try(each.value.glue_crawler, false)
  estate           = local.estate
  shared           = module.platform.for_tenants
  reader_principals = coalescelist(
    var.tenant_reader_principals,
    ["arn:${local.estate.partition}:iam::${local.estate.account_id}:root"],
  )
}
