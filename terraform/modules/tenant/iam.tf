# The AWS-side form of the platform's tenant isolation: a tenant's reader role can list and read
# only its own lake prefixes, see only its own catalog database and query only in its own
# workgroup (whose results it may write, under the workgroup's own result location).

# The raw prefix, as both of the tenant's roles read it.
data "aws_iam_policy_document" "raw" {
  statement {
    sid       = "ListOwnRaw"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.raw_key, "${local.raw_key}*"]
    }
  }

  statement {
    sid       = "ReadOwnRaw"
    actions   = ["s3:GetObject"]
    resources = [local.raw_objects]
  }

  # The lake and the query results are encrypted with the platform's key; the crawler's logs too.
  statement {
    sid       = "DecryptThroughS3AndLogs"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.shared.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.estate.region}.amazonaws.com", "logs.${var.estate.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "reader" {
  source_policy_documents = [data.aws_iam_policy_document.raw.json]

  statement {
    sid       = "ReadOwnCurated"
    actions   = ["s3:GetObject"]
    resources = [local.curated_objects]
  }

  statement {
    sid       = "LocateBuckets"
    actions   = ["s3:GetBucketLocation"]
    resources = distinct([local.lake_bucket_arn, local.results_bucket_arn])
  }

  statement {
    sid       = "ListOwnCuratedAndResults"
    actions   = ["s3:ListBucket"]
    resources = distinct([local.lake_bucket_arn, local.results_bucket_arn])
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.curated_and_results_keys
    }
  }

  statement {
    sid       = "OwnQueryResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [local.results_objects]
  }

  statement {
    sid       = "ReadOwnCatalog"
    actions   = local.glue_read
    resources = local.own_catalog
  }

  statement {
    sid       = "QueryInOwnWorkgroup"
    actions   = local.athena_query
    resources = [local.athena_wg]
  }
}

module "reader_role" {
  source = "../role"

  name        = "custos_${var.org_id}_reader"
  description = "FinOps platform: reads tenant ${var.org_id}'s lake, catalog and workgroup only"
  trusted     = { type = "AWS", identifiers = var.reader_principals }
  policies    = { own-tenant-only = data.aws_iam_policy_document.reader.json }
}

# The crawler's role (tenants with glue_crawler): its raw prefix in, its own database out.
data "aws_iam_policy_document" "crawler" {
  source_policy_documents = [data.aws_iam_policy_document.raw.json]

  statement {
    sid       = "CrawlerLogs"
    actions   = local.log_writes
    resources = [local.crawler_logs]
  }

  statement {
    sid       = "WriteOwnCatalog"
    actions   = concat(local.glue_read, local.glue_write)
    resources = local.own_catalog
  }
}

module "crawler_role" {
  source = "../role"
  count  = var.glue_crawler ? 1 : 0

  name        = "custos_${var.org_id}_crawler"
  description = "FinOps platform: tenant ${var.org_id}'s Glue crawler"
  trusted     = { type = "Service", identifiers = ["glue.amazonaws.com"] }
  policies    = { own-tenant-only = data.aws_iam_policy_document.crawler.json }
}
