# PostgreSQL for the Dagster instance (deploy/dagster.yaml): runs, event logs, schedule and
# sensor state. RDS generates the password and keeps it in Secrets Manager (no literal anywhere);
# the tasks get it as DAGSTER_PG_PASSWORD from the secret ARN in SSM.

resource "aws_db_subnet_group" "dagster" {
  name        = "custos-${var.environment}-dagster"
  description = "FinOps platform: the Dagster instance's PostgreSQL"
  subnet_ids  = var.network.subnet_ids
}

resource "aws_security_group" "postgres" {
  name        = "custos-${var.environment}-dagster-postgres"
  description = "FinOps platform: the Dagster instance's PostgreSQL, reached from the Dagster tasks only"
  vpc_id      = var.network.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_tasks" {
  security_group_id            = aws_security_group.postgres.id
  description                  = "The Dagster tasks"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.tasks.id
}

resource "aws_db_parameter_group" "dagster" {
  name        = "custos-${var.environment}-dagster"
  description = "FinOps platform: TLS only, DDL and slow statements logged"
  family      = "postgres16"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
}

module "rds_monitoring_role" {
  source = "../role"

  name                = "custos-${var.environment}-rds-monitoring"
  description         = "FinOps platform: enhanced monitoring of the Dagster instance's PostgreSQL"
  trusted             = { type = "Service", identifiers = ["monitoring.rds.amazonaws.com"] }
  managed_policy_arns = ["${local.arn_prefix}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"]
}

resource "aws_db_instance" "dagster" {
  identifier     = "custos-${var.environment}-dagster"
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.postgres.instance_class
  db_name        = "dagster"
  username       = "dagster"

  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.platform.arn

  allocated_storage     = 20
  max_allocated_storage = 100
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.platform.arn

  publicly_accessible    = false
  db_subnet_group_name   = aws_db_subnet_group.dagster.name
  vpc_security_group_ids = [aws_security_group.postgres.id]
  parameter_group_name   = aws_db_parameter_group.dagster.name
  multi_az               = var.postgres.multi_az

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  backup_retention_period             = 14
  copy_tags_to_snapshot               = true
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "custos-${var.environment}-dagster-final"

  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.platform.arn
  monitoring_interval             = 60
  monitoring_role_arn             = module.rds_monitoring_role.arn
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
}
