output "tenants" {
  description = "Each active tenant's database, workgroup, crawler (or null), reader role and raw location."
  value       = { for org, m in module.tenant : org => m.tenant }
}

output "platform" {
  description = "The lake bucket, the Dagster roles, ECS cluster and security group, and the SSM parameters."
  value       = module.platform.deployment
}

output "dagster" {
  description = "The Dagster services, the run task definition (DAGSTER_ECS_RUN_TASK_DEFINITION) and the code location's discovery name."
  value       = module.platform.dagster
}
