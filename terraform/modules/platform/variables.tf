variable "environment" {
  description = "The environment's name (staging, prod): it names the platform's own resources."
  type        = string
}

variable "estate" {
  description = "The environment's values (the root module's local.estate): ARN parts, lake, results, cutoff, central names."
  type        = any
}

variable "tenants" {
  description = "The active tenants' databases, workgroups and source paths (the Dagster role's reach) and the config itself (kept in SSM)."
  type = object({
    databases   = list(string)
    workgroups  = list(string)
    sources     = list(string)
    config_json = string
  })
}

variable "network" {
  description = "The VPC and private subnets (two or more zones) of the Dagster tasks and PostgreSQL."
  type = object({
    vpc_id     = string
    subnet_ids = list(string)
  })
}

variable "postgres" {
  description = "The Dagster instance's PostgreSQL: its class, and whether it keeps a standby in a second zone."
  type = object({
    instance_class = string
    multi_az       = bool
  })
}

variable "dagster" {
  description = "The Dagster services: their image (deploy/Dockerfile), the security groups of the proxy in front of the UI, and the SSM parameter holding the Slack webhook (null: none)."
  type = object({
    image                   = string
    webserver_clients       = list(string)
    slack_webhook_parameter = string
  })
}
