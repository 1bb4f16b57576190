# A role for one service or set of principals, with its inline and managed policies: every role
# of the estate is made here, so each is capped at one-hour sessions and described alike.

variable "name" {
  description = "The role's name."
  type        = string
}

variable "description" {
  description = "What the role is for."
  type        = string
}

variable "trusted" {
  description = "Who may assume the role: a principal type (Service, AWS) and its identifiers."
  type = object({
    type        = string
    identifiers = list(string)
  })
}

variable "source_account" {
  description = "When set, only requests on behalf of this account may assume the role (services)."
  type        = string
  default     = null
}

variable "policies" {
  description = "Inline policies, by name (JSON documents)."
  type        = map(string)
  default     = {}
}

variable "managed_policy_arns" {
  description = "AWS managed policies to attach."
  type        = list(string)
  default     = []
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = var.trusted.type
      identifiers = var.trusted.identifiers
    }
    dynamic "condition" {
      for_each = var.source_account == null ? [] : [var.source_account]
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "this" {
  for_each = var.policies
  name     = each.key
  role     = aws_iam_role.this.id
  policy   = each.value
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = toset(var.managed_policy_arns)
  role       = aws_iam_role.this.name
  policy_arn = each.value
}

output "arn" {
  description = "The role's ARN."
  value       = aws_iam_role.this.arn
}
