resource "mesh_data_product" "orders" {
  domain      = "commerce" # a mesh_domain's name, e.g. mesh_domain.commerce.name
  name        = "orders"
  description = "Orders placed on the web shop, one row per order."
  format      = "parquet"

  column {
    name     = "order_id"
    type     = "string"
    comment  = "Order identifier"
    nullable = false
  }
  column {
    name = "customer_id"
    type = "string"
  }
  column {
    name    = "order_amount"
    type    = "decimal(12,2)"
    lf_tags = { sensitivity = "confidential" }
  }
  column {
    name = "currency"
    type = "string"
  }
  column {
    name = "created_at"
    type = "timestamp"
  }

  partition_key {
    name = "order_date"
    type = "date"
  }

  lf_tags = { sensitivity = "internal" }

  schema_contract {
    registry      = "mesh-contracts"
    compatibility = "BACKWARD_ALL"
    data_format   = "AVRO"
  }

  quality_rules = [
    "IsComplete \"order_id\"",
    "IsUnique \"order_id\"",
    "ColumnValues \"currency\" in [\"EUR\", \"USD\"]",
  ]

  # Watched: alarms commerce-orders-freshness (older than an hour, or no datapoint at all)
  # and commerce-orders-quality (score below 0.95) on the DataMesh metrics.
  sla {
    freshness_minutes = 60
    min_quality_score = 0.95
    alarm_actions     = ["arn:aws:sns:eu-west-1:111122223333:commerce-data-alerts"]
  }
}
