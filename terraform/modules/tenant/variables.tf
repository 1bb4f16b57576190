variable "org_id" {
  description = "The tenant's org_id (tenants_config.json)."
  type        = string

  validation {
    # settings.ORG_ID_PATTERN, to the letter (a test holds them equal): IAM role names stop at
    # 64 characters, and the crawler's role is custos_<org>_crawler.
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

variable "estate" {
  description = "The environment's values (the root module's local.estate): ARN parts, lake, results, cutoff."
  type        = any
}

variable "shared" {
  description = "The platform's key (lake, results, crawler logs) and the crawlers' Glue security configuration."
  type = object({
    kms_key_arn          = string
    glue_security_config = string
  })
}

variable "reader_principals" {
  description = "Who may assume the tenant's reader role."
  type        = list(string)
}
