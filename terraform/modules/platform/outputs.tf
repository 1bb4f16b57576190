output "for_tenants" {
  description = "What every tenant module uses of the platform: its key and the crawlers' security configuration."
  value = {
    kms_key_arn          = aws_kms_key.platform.arn
    glue_security_config = aws_glue_security_configuration.crawlers.name
  }
}

output "deployment" {
  description = "What the Dagster deployment (ECS services, task definitions) is given."
  value = {
    lake_bucket             = aws_s3_bucket.data[var.estate.lake_bucket].id
    dagster_role_arn        = module.ecs_roles[local.dagster_role].arn
    execution_role_arn      = module.ecs_roles[local.execution_role].arn
    ecs_cluster_arn         = aws_ecs_cluster.dagster.arn
    tasks_security_group_id = aws_security_group.tasks.id
    log_group               = aws_cloudwatch_log_group.dagster.name
    ssm_parameters          = { for k, p in aws_ssm_parameter.config : k => p.name }
  }
}

output "dagster" {
  description = "The Dagster services, the run task definition the daemon starts runs from, and the code location's discovery name."
  value = {
    run_task_definition_arn = aws_ecs_task_definition.dagster["run"].arn
    services                = { for key, service in aws_ecs_service.dagster : key => service.name }
    code_location_host      = local.code_location_host
    code_location_port      = local.code_location_port
  }
}
