# The platform's own catalog database and workgroup (the cross-org tables), and the encryption of
# the tenants' crawlers.

resource "aws_glue_catalog_database" "central" {
  name        = var.estate.central_database
  description = "FinOps platform: the cross-org tables"
}

module "central_workgroup" {
  source = "../workgroup"

  name        = var.estate.central_workgroup
  description = "FinOps platform: the cross-org queries"
  estate      = var.estate
  kms_key_arn = aws_kms_key.platform.arn
}

resource "aws_glue_security_configuration" "crawlers" {
  name = "custos-${var.environment}-crawlers"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.platform.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.platform.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.platform.arn
    }
  }
}
