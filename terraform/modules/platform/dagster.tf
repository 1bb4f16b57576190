# Dagster: its roles, its ECS cluster, its logs, and the security group its tasks share. The
# code location and the runs do the platform's work (the `dagster` role); the daemon only
# launches runs and the webserver only stops them (services.tf gives them roles of their own).

locals {
  arn_prefix = "arn:${var.estate.partition}"
  glue       = "${local.arn_prefix}:glue:${var.estate.region}:${var.estate.account_id}"
  databases  = concat([var.estate.central_database], var.tenants.databases)
  workgroups = concat([var.estate.central_workgroup], var.tenants.workgroups)
  # The CUR deliveries the raw asset copies: s3://bucket/prefix/ -> bucket, key prefix.
  sources        = [for s in var.tenants.sources : trimprefix(s, "s3://") if startswith(s, "s3://")]
  source_buckets = distinct([for s in local.sources : "${local.arn_prefix}:s3:::${split("/", s)[0]}"])
  source_keys    = [for s in local.sources : "${join("/", slice(split("/", s), 1, length(split("/", s))))}*"]
  lake_objects   = "${local.arn_prefix}:s3:::${trimprefix(trimsuffix(var.estate.lake_root, "/"), "s3://")}/custos/*"
  result_objects = "${local.arn_prefix}:s3:::${trimprefix(trimsuffix(var.estate.athena_results_root, "/"), "s3://")}/*"
  ssm_prefix     = "/custos/${var.environment}"
  parameters_arn = "${local.arn_prefix}:ssm:${var.estate.region}:${var.estate.account_id}:parameter${local.ssm_prefix}/*"
  cluster_name   = "custos-${var.environment}"
  dagster_role   = "custos-${var.environment}-dagster"
  execution_role = "custos-${var.environment}-dagster-execution"
  daemon_role    = "custos-${var.environment}-dagster-daemon"
  webserver_role = "custos-${var.environment}-dagster-webserver"
  ecs_roles = {
    (local.dagster_role) = {
      description = "FinOps platform: Dagster's code location and runs"
      policies    = { platform = data.aws_iam_policy_document.dagster.json }
      managed     = []
    }
    (local.daemon_role) = {
      description = "FinOps platform: Dagster's daemon, which starts each run as an ECS task"
      policies    = { launch-runs = data.aws_iam_policy_document.daemon.json }
      managed     = []
    }
    (local.webserver_role) = {
      description = "FinOps platform: Dagster's webserver, which may stop a run's task"
      policies    = { stop-runs = data.aws_iam_policy_document.webserver.json }
      managed     = []
    }
    (local.execution_role) = {
      description = "FinOps platform: starts the Dagster tasks (image, logs, PostgreSQL secret)"
      policies    = { secrets = data.aws_iam_policy_document.execution.json }
      managed     = ["${local.arn_prefix}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"]
    }
  }
}

data "aws_iam_policy_document" "dagster" {
  statement {
    sid       = "LakeBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [for b in aws_s3_bucket.data : b.arn]
  }

  statement {
    sid       = "LakeObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = distinct([local.lake_objects, local.result_objects])
  }

  dynamic "statement" {
    for_each = length(local.sources) > 0 ? [1] : []
    content {
      sid       = "ListTenantDeliveries"
      actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
      resources = local.source_buckets
      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = local.source_keys
      }
    }
  }

  dynamic "statement" {
    for_each = length(local.sources) > 0 ? [1] : []
    content {
      sid       = "ReadTenantDeliveries"
      actions   = ["s3:GetObject"]
      resources = [for s in local.sources : "${local.arn_prefix}:s3:::${s}*"]
    }
  }

  statement {
    sid = "PlatformCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
      "glue:DeleteTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
      "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition",
      "glue:DeletePartition", "glue:BatchDeletePartition",
    ]
    resources = concat(
      ["${local.glue}:catalog"],
      [for d in local.databases : "${local.glue}:database/${d}"],
      [for d in local.databases : "${local.glue}:table/${d}/*"],
    )
  }

  statement {
    sid       = "TenantCrawlers"
    actions   = ["glue:StartCrawler", "glue:GetCrawler"]
    resources = ["${local.glue}:crawler/custos_*_crawler"]
  }

  statement {
    sid = "PlatformQueries"
    actions = [
      "athena:GetWorkGroup",
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
    ]
    resources = [for w in local.workgroups : "${local.arn_prefix}:athena:${var.estate.region}:${var.estate.account_id}:workgroup/${w}"]
  }

  statement {
    sid       = "PlatformParameters"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = concat([local.parameters_arn], local.slack_parameter_arns)
  }

  statement {
    sid       = "PlatformKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.platform.arn]
  }
}

# The tasks' execution role: pulls the image, writes the logs, reads the PostgreSQL secret.
data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "PostgresSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_db_instance.dagster.master_user_secret[0].secret_arn]
  }

  statement {
    sid       = "PlatformParameters"
    actions   = ["ssm:GetParameters"]
    resources = concat([local.parameters_arn], local.slack_parameter_arns)
  }

  statement {
    sid       = "PlatformKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.platform.arn]
  }
}

# The Dagster roles (code location and runs, daemon, webserver) and the tasks' execution role.
module "ecs_roles" {
  source   = "../role"
  for_each = local.ecs_roles

  name                = each.key
  description         = each.value.description
  trusted             = { type = "Service", identifiers = ["ecs-tasks.amazonaws.com"] }
  source_account      = var.estate.account_id
  policies            = each.value.policies
  managed_policy_arns = each.value.managed
}

resource "aws_ecs_cluster" "dagster" {
  name = local.cluster_name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "dagster" {
  name              = "/custos/${var.environment}/dagster"
  retention_in_days = 400
  kms_key_id        = aws_kms_key.platform.arn
}

resource "aws_security_group" "tasks" {
  name        = "custos-${var.environment}-dagster-tasks"
  description = "FinOps platform: the Dagster tasks"
  vpc_id      = var.network.vpc_id

  egress {
    description = "AWS APIs (S3, Glue, Athena, SSM) and the image registry over HTTPS"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    description = "The daemon and the webserver to the code location's gRPC server"
    protocol    = "tcp"
    from_port   = 4000
    to_port     = 4000
    self        = true
  }
  ingress {
    description = "The code location's gRPC server, from the daemon and the webserver"
    protocol    = "tcp"
    from_port   = 4000
    to_port     = 4000
    self        = true
  }
  dynamic "ingress" {
    for_each = length(var.dagster.webserver_clients) > 0 ? [1] : []
    content {
      description     = "The Dagster UI, from the platform team's authenticating proxy only"
      protocol        = "tcp"
      from_port       = 3000
      to_port         = 3000
      security_groups = var.dagster.webserver_clients
    }
  }
  egress {
    description     = "The Dagster instance's PostgreSQL"
    protocol        = "tcp"
    from_port       = 5432
    to_port         = 5432
    security_groups = [aws_security_group.postgres.id]
  }
}
