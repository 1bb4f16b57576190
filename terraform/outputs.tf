output "lake_bucket" {
  description = "The lake bucket (the environment's lake_root)."
  value       = module.platform.lake_bucket
}

output "tenants" {
  description = "Each active tenant's database, workgroup, crawler (or null) and reader role."
  value = {
    for org, m in module.tenant : org => {
      database  = m.database
      workgroup = m.workgroup
      crawler   = m.crawler
      role_arn  = m.reader_role_arn
    }
  }
}

output "dagster_role_arn" {
  description = "The role of the Dagster daemon, webserver, code location and run tasks."
  value       = module.platform.dagster_role_arn
}

output "ecs_cluster_arn" {
  description = "The ECS cluster the Dagster services and runs go to."
  value       = module.platform.ecs_cluster_arn
}

output "ssm_parameters" {
  description = "The SSM parameters the Dagster tasks read (CONFIG_PATH=ssm:<tenants_config>)."
  value       = module.platform.ssm_parameters
}
