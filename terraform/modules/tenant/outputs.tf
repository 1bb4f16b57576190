output "tenant" {
  description = "The tenant's database and workgroup (TenantConfig's), crawler (or null), reader role and raw location."
  value = {
    database        = aws_glue_catalog_database.this.name
    workgroup       = module.workgroup.workgroup.name
    crawler         = var.glue_crawler ? aws_glue_crawler.this[0].name : null
    reader_role_arn = module.reader_role.arn
    raw_location    = local.raw_location
  }
}
