variable "environment" {
  description = "Which config/environments/<environment>.json drives this estate (staging, prod)."
  type        = string
  default     = "staging"
}

variable "tenants_config_path" {
  description = "The tenants file; null means the repository's config/tenants_config.json, the one the Python side reads."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "The VPC of the Dagster tasks and the PostgreSQL instance (the network is the platform team's)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (two or more zones) for the PostgreSQL instance and the Dagster tasks."
  type        = list(string)
}

variable "tenant_reader_principals" {
  description = "Who may assume the tenant reader roles; empty means this account (its IAM policies then decide)."
  type        = list(string)
  default     = []
}

variable "postgres_instance_class" {
  description = "The Dagster instance's PostgreSQL size: it holds run and event metadata, not cost data."
  type        = string
  default     = "db.t4g.small"
}

variable "postgres_multi_az" {
  description = "A standby in a second zone: the daemon's sensors stop while the instance is down."
  type        = bool
  default     = true
}

variable "dagster_image" {
  description = "The image of the Dagster code location, daemon, webserver and runs (deploy/Dockerfile), by digest or tag."
  type        = string
}

variable "dagster_webserver_clients" {
  description = "Security groups of the authenticating proxy in front of the Dagster UI (README, Production): the only way in to port 3000."
  type        = list(string)
  default     = []
}

variable "slack_webhook_parameter" {
  description = "An SSM SecureString (name, /-prefixed) holding the Slack webhook, when the environment's slack_webhook is env:NAME; null: no Slack alerts."
  type        = string
  default     = null
}
