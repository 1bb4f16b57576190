# The AWS-side form of the platform's tenant isolation: a tenant's reader role can list and read
# only its own lake prefixes, see only its own catalog database and query only in its own
# workgroup (whose results it may write, under the workgroup's own result location).

data "aws_iam_policy_document" "assume_reader" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.reader_principals
    }
  }
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.raw_key, "${local.raw_key}*", local.curated_key, "${local.curated_key}*"]
    }
  }

  statement {
    sid       = "ReadOwnLake"
    actions   = ["s3:GetObject"]
    resources = [local.raw_objects, local.curated_objects]
  }

  statement {
    sid       = "LocateBuckets"
    actions   = ["s3:GetBucketLocation"]
    resources = distinct([local.lake_bucket_arn, local.results_bucket_arn])
  }

  statement {
    sid       = "ListOwnResults"
    actions   = ["s3:ListBucket"]
    resources = [local.results_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [local.results_key, "${local.results_key}*"]
    }
  }

  statement {
    sid       = "OwnQueryResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [local.results_objects]
  }

  statement {
    sid = "ReadOwnCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
    ]
    resources = [local.glue_catalog, local.glue_database, local.glue_tables]
  }

  statement {
    sid = "QueryInOwnWorkgroup"
    actions = [
      "athena:GetWorkGroup",
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetQueryResultsStream",
      "athena:ListQueryExecutions",
    ]
    resources = [local.athena_wg]
  }

  statement {
    sid       = "DecryptThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "reader" {
  name                 = "custos_${var.org_id}_reader"
  description          = "FinOps platform: reads tenant ${var.org_id}'s lake, catalog and workgroup only"
  assume_role_policy   = data.aws_iam_policy_document.assume_reader.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "reader" {
  name   = "own-tenant-only"
  role   = aws_iam_role.reader.id
  policy = data.aws_iam_policy_document.reader.json
}

# The crawler's role (tenants with glue_crawler): its raw prefix in, its own database out.
data "aws_iam_policy_document" "assume_crawler" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "crawler" {
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

  statement {
    sid = "WriteOwnCatalog"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = [local.glue_catalog, local.glue_database, local.glue_tables]
  }

  statement {
    sid       = "CrawlerLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = [local.crawler_logs]
  }

  statement {
    sid       = "DecryptAndLog"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role" "crawler" {
  count = var.glue_crawler ? 1 : 0

  name                 = "custos_${var.org_id}_crawler"
  description          = "FinOps platform: tenant ${var.org_id}'s Glue crawler"
  assume_role_policy   = data.aws_iam_policy_document.assume_crawler.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "crawler" {
  count = var.glue_crawler ? 1 : 0

  name   = "own-tenant-only"
  role   = aws_iam_role.crawler[0].id
  policy = data.aws_iam_policy_document.crawler.json
}
