# One tenant's AWS resources. The names are finops_platform/lake.py's and TenantConfig's
# (database, workgroup): finops_platform_tests/deploy/test_terraform.py holds them to Python's
# for every tenant of the config, overrides included.

locals {
  # TenantConfig.database / .workgroup: the override when the tenant has one.
  database  = coalesce(var.glue_db, "custos_${var.org_id}_db")
  workgroup = coalesce(var.athena_workgroup, "wg_custos_${var.org_id}")
  crawler   = "custos_${var.org_id}_crawler"

  # lake.raw_table_location, and lake.curated_location for every curated table (`*`).
  lake             = trimsuffix(var.estate.lake_root, "/")
  raw_location     = "${local.lake}/custos/cur/org=${var.org_id}/"
  curated_location = "${local.lake}/custos/curated/*/org=${var.org_id}/"
  results_location = module.workgroup.workgroup.results_location

  # The same places as S3 keys (for s3:prefix) and ARNs.
  s3              = "arn:${var.estate.partition}:s3:::"
  raw_key         = trimprefix(local.raw_location, "s3://${var.estate.lake_bucket}/")
  curated_key     = trimprefix(local.curated_location, "s3://${var.estate.lake_bucket}/")
  results_key     = trimprefix(local.results_location, "s3://${var.estate.results_bucket}/")
  raw_objects     = "${local.s3}${trimprefix(local.raw_location, "s3://")}*"
  curated_objects = "${local.s3}${trimprefix(local.curated_location, "s3://")}*"
  results_objects = "${local.s3}${trimprefix(local.results_location, "s3://")}*"
  lake_bucket_arn = "${local.s3}${var.estate.lake_bucket}"
  curated_and_results_keys = [
    local.curated_key, "${local.curated_key}*", local.results_key, "${local.results_key}*",
  ]
  results_bucket_arn = "${local.s3}${var.estate.results_bucket}"

  in_account    = "${var.estate.region}:${var.estate.account_id}"
  glue          = "arn:${var.estate.partition}:glue:${local.in_account}"
  glue_catalog  = "${local.glue}:catalog"
  glue_database = "${local.glue}:database/${local.database}"
  glue_tables   = "${local.glue}:table/${local.database}/*"
  own_catalog   = [local.glue_catalog, local.glue_database, local.glue_tables]
  athena_wg     = "arn:${var.estate.partition}:athena:${local.in_account}:workgroup/${local.workgroup}"

  # The actions the roles are given (no wildcards: each is named).
  glue_read = [
    "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition",
    "glue:GetPartitions", "glue:BatchGetPartition",
  ]
  glue_write = [
    "glue:CreateTable", "glue:UpdateTable", "glue:CreatePartition", "glue:BatchCreatePartition",
    "glue:UpdatePartition", "glue:BatchUpdatePartition",
  ]
  athena_query = [
    "athena:GetWorkGroup", "athena:StartQueryExecution", "athena:StopQueryExecution",
    "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetQueryResultsStream",
  ]
  log_writes   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
  crawler_logs = "arn:${var.estate.partition}:logs:${local.in_account}:log-group:/aws-glue/crawlers*"
}

resource "aws_glue_catalog_database" "this" {
  name        = local.database
  description = "FinOps platform: tenant ${var.org_id}'s tables (tb_cur_raw and the curated ones)"
}

module "workgroup" {
  source = "../workgroup"

  name        = local.workgroup
  description = "FinOps platform: tenant ${var.org_id}'s queries"
  estate      = var.estate
  kms_key_arn = var.shared.kms_key_arn
}

resource "aws_glue_crawler" "this" {
  count = var.glue_crawler ? 1 : 0

  name                   = local.crawler
  role                   = module.crawler_role[0].arn
  database_name          = aws_glue_catalog_database.this.name
  security_configuration = var.shared.glue_security_config

  s3_target {
    path = local.raw_location
  }
}
