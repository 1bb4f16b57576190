terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 6.0"
    }
  }
}

provider "aws" {
  # The region is the environment file's, as it is for the Python side.
  region = local.region

  default_tags {
    tags = {
      project     = "custos-finops"
      environment = var.environment
      managed_by  = "terraform"
    }
  }
}
