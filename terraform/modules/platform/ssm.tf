# What the Dagster tasks read at start: the tenants config (CONFIG_PATH=ssm:/custos/<env>/tenants_config)
# and where PostgreSQL is (the DAGSTER_PG_* variables of deploy/dagster.yaml). All SecureString,
# encrypted with the platform's key; the password itself stays in the RDS-managed secret.

locals {
  parameters = {
    tenants_config               = var.tenants.config_json
    postgres_host                = aws_db_instance.dagster.address
    postgres_port                = tostring(aws_db_instance.dagster.port)
    postgres_db                  = aws_db_instance.dagster.db_name
    postgres_user                = aws_db_instance.dagster.username
    postgres_password_secret_arn = aws_db_instance.dagster.master_user_secret[0].secret_arn
  }
}

resource "aws_ssm_parameter" "config" {
  for_each = local.parameters

  name        = "${local.ssm_prefix}/${each.key}"
  description = "FinOps platform (${var.environment}): ${each.key}"
  type        = "SecureString"
  key_id      = aws_kms_key.platform.arn
  tier        = "Intelligent-Tiering"
  value       = each.value
}
