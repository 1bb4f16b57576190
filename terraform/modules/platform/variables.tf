variable "environment" {
  description = "The environment's name (staging, prod): it names the platform's own resources."
  type        = string
}

variable "partition" {
  description = "The AWS partition of the ARNs."
  type        = string
}

variable "account_id" {
  description = "The account of the estate."
  type        = string
}

variable "region" {
  description = "The environment's region."
  type        = string
}

variable "lake_bucket" {
  description = "The bucket of the environment's lake_root."
  type        = string
}

variable "results_bucket" {
  description = "The bucket of athena_results_root (the lake bucket in staging and prod)."
  type        = string
}

variable "athena_results_root" {
  description = "The environment's athena_results_root."
  type        = string
}

variable "bytes_scanned_cutoff" {
  description = "The environment's athena_bytes_scanned_cutoff."
  type        = number
}

variable "central_database" {
  description = "EnvironmentSettings.central_database: the cross-org tables."
  type        = string
}

variable "central_workgroup" {
  description = "EnvironmentSettings.central_workgroup."
  type        = string
}

variable "tenant_databases" {
  description = "Every active tenant's database: the Dagster role writes their tables."
  type        = list(string)
}

variable "tenant_workgroups" {
  description = "Every active tenant's workgroup: the Dagster role queries in them."
  type        = list(string)
}

variable "tenant_sources" {
  description = "Every active tenant's source_path (s3://bucket/prefix/): the Dagster role reads the CUR deliveries there."
  type        = list(string)
}

variable "tenants_config_json" {
  description = "The tenants config, kept in SSM for the Dagster tasks (CONFIG_PATH=ssm:/custos/<env>/tenants_config)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC of the Dagster tasks and PostgreSQL."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for PostgreSQL (two or more zones)."
  type        = list(string)
}

variable "postgres_instance" {
  description = "The PostgreSQL instance class."
  type        = string
}

variable "postgres_multi_az" {
  description = "Whether PostgreSQL keeps a standby in a second zone."
  type        = bool
}

variable "lake_root" {
  description = "The environment's lake_root."
  type        = string
}
