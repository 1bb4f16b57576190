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

variable "estate" {
  description = "The environment's values (the root module's local.estate): athena_results_root, bytes_scanned_cutoff."
  type        = any
}

variable "kms_key_arn" {
  description = "The key the query results are encrypted with."
  type        = string
}

locals {
  # AthenaEngine.results_location.
  results_location = "${trimsuffix(var.estate.athena_results_root, "/")}/${var.name}/"
}

resource "aws_athena_workgroup" "this" {
  name        = var.name
  description = var.description

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.estate.bytes_scanned_cutoff

    result_configuration {
      output_location = local.results_location

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

output "workgroup" {
  description = "The workgroup's name and where its query results go."
  value = {
    name             = aws_athena_workgroup.this.name
    results_location = local.results_location
  }
}
