# One tenant's AWS resources. The names are finops_platform/lake.py's and TenantConfig's
# (database, workgroup): finops_platform_tests/deploy/test_terraform.py holds them to Python's
# for every tenant of the config, overrides included.

locals {
  # TenantConfig.database / .workgroup: the override when the tenant has one.
  database  = coalesce(var.glue_db, "custos_${var.org_id}_db")
  workgroup = coalesce(var.athena_workgroup, "wg_custos_${var.org_id}")
  crawler   = "custos_${var.org_id}_crawler"

  # lake.raw_table_location, and lake.curated_location for every curated table (`*`).
  lake             = trimsuffix(var.lake_root, "/")
  raw_location     = "${local.lake}/custos/cur/org=${var.org_id}/"
  curated_location = "${local.lake}/custos/curated/*/org=${var.org_id}/"

  # The same places as S3 keys (for s3:prefix) and object ARNs.
  raw_key            = trimprefix(local.raw_location, "s3://${var.lake_bucket}/")
  curated_key        = trimprefix(local.curated_location, "s3://${var.lake_bucket}/")
  results_key        = trimprefix(module.workgroup.results_location, "s3://${var.results_bucket}/")
  raw_objects        = "arn:${var.partition}:s3:::${trimprefix(local.raw_location, "s3://")}*"
  curated_objects    = "arn:${var.partition}:s3:::${trimprefix(local.curated_location, "s3://")}*"
  results_objects    = "arn:${var.partition}:s3:::${trimprefix(module.workgroup.results_location, "s3://")}*"
  lake_bucket_arn    = "arn:${var.partition}:s3:::${var.lake_bucket}"
  results_bucket_arn = "arn:${var.partition}:s3:::${var.results_bucket}"

  glue_catalog  = "arn:${var.partition}:glue:${var.region}:${var.account_id}:catalog"
  glue_database = "arn:${var.partition}:glue:${var.region}:${var.account_id}:database/${local.database}"
  glue_tables   = "arn:${var.partition}:glue:${var.region}:${var.account_id}:table/${local.database}/*"
  athena_wg     = "arn:${var.partition}:athena:${var.region}:${var.account_id}:workgroup/${local.workgroup}"
  crawler_logs  = "arn:${var.partition}:logs:${var.region}:${var.account_id}:log-group:/aws-glue/crawlers*"
}

resource "aws_glue_catalog_database" "this" {
  name        = local.database
  description = "FinOps platform: tenant ${var.org_id}'s tables (tb_cur_raw and the curated ones)"
}

module "workgroup" {
  source = "../workgroup"

  name                 = local.workgroup
  description          = "FinOps platform: tenant ${var.org_id}'s queries"
  athena_results_root  = var.athena_results_root
  bytes_scanned_cutoff = var.bytes_scanned_cutoff
  kms_key_arn          = var.kms_key_arn
}

resource "aws_glue_crawler" "this" {
  count = var.glue_crawler ? 1 : 0

  name                   = local.crawler
  role                   = aws_iam_role.crawler[0].arn
  database_name          = aws_glue_catalog_database.this.name
  security_configuration = var.glue_security_config

  s3_target {
    path = local.raw_location
  }
}
