# The lake bucket (and the query results' bucket when athena_results_root names another one):
# versioned, encrypted with the platform's key, never public, TLS only, access-logged.

locals {
  data_buckets = toset(distinct([var.estate.lake_bucket, var.estate.results_bucket]))
  logs_bucket  = "${var.estate.lake_bucket}-access-logs"
  all_buckets = merge(
    { for name, bucket in aws_s3_bucket.data : name => bucket.id },
    { (local.logs_bucket) = aws_s3_bucket.logs.id },
  )
  # The results' prefix in its bucket: query results are re-creatable, so they expire.
  results_key = trimprefix(var.estate.athena_results_root, "s3://${var.estate.results_bucket}/")
}

resource "aws_kms_key" "platform" {
  description             = "FinOps platform (${var.environment}): lake, query results, parameters, PostgreSQL, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.estate.partition}:iam::${var.estate.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "logs.${var.estate.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${var.estate.partition}:logs:${var.estate.region}:${var.estate.account_id}:*"
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "platform" {
  name          = "alias/custos-${var.environment}"
  target_key_id = aws_kms_key.platform.key_id
}

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:the lake is derived from the tenants' CUR deliveries and rebuilt from them; a replica would double its cost
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket events: the platform's sensors list the prefixes they watch
  for_each = local.data_buckets
  bucket   = each.key
}

# What every bucket of the platform has, the access-log bucket included.
resource "aws_s3_bucket_ownership_controls" "all" {
  for_each = local.all_buckets
  bucket   = each.value
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = local.all_buckets
  bucket   = each.value
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.all_buckets
  bucket                  = each.value
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = local.data_buckets
  bucket   = aws_s3_bucket.data[each.key].id
  rule {
    bucket_key_enabled = true
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.platform.arn
    }
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = local.data_buckets
  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = local.data_buckets
  bucket   = aws_s3_bucket.data[each.key].id

  # `finops gc` deletes replaced versions of a month; S3 keeps them 30 days more, then drops them.
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  dynamic "rule" {
    # Never when the results root is the lake bucket's root: the rule would expire the lake.
    for_each = each.key == var.estate.results_bucket && (local.results_key != "" || each.key != var.estate.lake_bucket) ? [local.results_key] : []
    content {
      id     = "query-results"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = 30
      }
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.data_buckets
  statement {
    sid     = "DenyPlainHttp"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data[each.key].arn,
      "${aws_s3_bucket.data[each.key].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = local.data_buckets
  bucket   = aws_s3_bucket.data[each.key].id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json
}
