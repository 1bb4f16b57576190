output "kms_key_arn" {
  description = "The platform's key."
  value       = aws_kms_key.platform.arn
}

output "lake_bucket" {
  description = "The lake bucket."
  value       = aws_s3_bucket.data[var.lake_bucket].id
}

output "glue_security_configuration" {
  description = "The tenants' crawlers' security configuration."
  value       = aws_glue_security_configuration.crawlers.name
}

output "dagster_role_arn" {
  description = "The Dagster role."
  value       = aws_iam_role.dagster.arn
}

output "execution_role_arn" {
  description = "The Dagster tasks' execution role."
  value       = aws_iam_role.execution.arn
}

output "ecs_cluster_arn" {
  description = "The Dagster ECS cluster."
  value       = aws_ecs_cluster.dagster.arn
}

output "tasks_security_group_id" {
  description = "The security group the Dagster tasks run in (it reaches PostgreSQL)."
  value       = aws_security_group.tasks.id
}

output "ssm_parameters" {
  description = "The SSM parameter of each config value."
  value       = { for k, p in aws_ssm_parameter.config : k => p.name }
}
