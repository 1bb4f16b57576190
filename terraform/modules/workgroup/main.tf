# An Athena workgroup as AthenaEngine.ensure_workgroup makes it: configuration enforced, results
# under <athena_results_root><name>/, a bytes-scanned cutoff per query; here also encrypted.

variable "name" {
  description = "The workgroup's name (a tenant's TenantConfig.workgroup, or the central one)."
  type        = string
}

variable "description" {
  description = "Whose queries run here."
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

variable "kms_key_arn" {
  description = "The key the query results are encrypted with."
  type        = string
}

locals {
  # AthenaEngine.results_location.
  results_location = "${trimsuffix(var.athena_results_root, "/")}/${var.name}/"
}

resource "aws_athena_workgroup" "this" {
  name        = var.name
  description = var.description

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff

    result_configuration {
      output_location = local.results_location

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

output "name" {
  description = "The workgroup's name."
  value       = aws_athena_workgroup.this.name
}

output "results_location" {
  description = "Where the workgroup's query results go."
  value       = local.results_location
}
