variable "org_id" {
  description = "The tenant's org_id (tenants_config.json)."
  type        = string

  validation {
    # settings.ORG_ID_PATTERN allows 63 characters; IAM role names stop at 64, and the
    # crawler's role is custos_<org>_crawler.
    condition     = can(regex("^[a-z][a-z0-9_]{1,48}$", var.org_id))
    error_message = "org_id must match ^[a-z][a-z0-9_]{1,48}$: the role custos_<org>_crawler must fit IAM's 64 characters."
  }
}

variable "glue_db" {
  description = "The tenant's glue_db override; null means custos_<org>_db."
  type        = string
  default     = null
}

variable "athena_workgroup" {
  description = "The tenant's athena_workgroup override; null means wg_custos_<org>."
  type        = string
  default     = null
}

variable "glue_crawler" {
  description = "The tenant's glue_crawler flag: a Glue crawler over its raw prefix."
  type        = bool
  default     = false
}

variable "partition" {
  description = "The AWS partition of the ARNs (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "account_id" {
  description = "The account that holds the catalog and the workgroups."
  type        = string
}

variable "region" {
  description = "The region of the catalog and the workgroups."
  type        = string
}

variable "lake_root" {
  description = "The environment's lake_root, `s3://bucket/[path/]`."
  type        = string
}

variable "lake_bucket" {
  description = "The bucket of lake_root."
  type        = string
}

variable "athena_results_root" {
  description = "The environment's athena_results_root; each workgroup writes under <root><workgroup>/."
  type        = string
}

variable "results_bucket" {
  description = "The bucket of athena_results_root."
  type        = string
}

variable "bytes_scanned_cutoff" {
  description = "The environment's athena_bytes_scanned_cutoff: the most one query may scan."
  type        = number
}

variable "kms_key_arn" {
  description = "The platform's key: the lake's, the query results' and the crawler logs' encryption."
  type        = string
}

variable "glue_security_config" {
  description = "The platform's Glue security configuration, for the crawler."
  type        = string
}

variable "reader_principals" {
  description = "Who may assume the tenant's reader role."
  type        = list(string)
}
