output "database" {
  description = "The tenant's Glue database (TenantConfig.database)."
  value       = aws_glue_catalog_database.this.name
}

output "workgroup" {
  description = "The tenant's Athena workgroup (TenantConfig.workgroup)."
  value       = module.workgroup.name
}

output "crawler" {
  description = "The tenant's Glue crawler, or null when the tenant has none."
  value       = one(aws_glue_crawler.this[*].name)
}

output "reader_role_arn" {
  description = "The role that reads only this tenant's data."
  value       = aws_iam_role.reader.arn
}

output "raw_location" {
  description = "Where tb_cur_raw of the tenant lives (lake.raw_table_location)."
  value       = local.raw_location
}
