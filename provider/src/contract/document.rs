//! The machine-readable contract of a product, an Open Data Contract Standard (ODCS) v3 document
//! written next to the data (`<location>_metadata/product.json`).
//!
//! The document is what consumers and tools (catalogs, datacontract-cli) read to learn the
//! product's schema, quality rules, SLA and owner without AWS credentials for every service
//! involved. Its bytes are deterministic (fixed key order, sorted tags, 2-space indentation),
//! so its SHA-256 identifies a contract version and an unchanged product never rewrites it.

use super::columns::Column;
use super::dqdl;
use super::glue_type::GlueType;
use crate::json::Json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// ODCS version the document follows.
pub const API_VERSION: &str = "v3.0.0";

/// Everything the contract document says about one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// Owning domain.
    pub domain: String,
    /// Product name (the Glue table name).
    pub name: String,
    /// What the product is for.
    pub description: Option<String>,
    /// Owning team.
    pub owner_team: Option<String>,
    /// Owner's email.
    pub owner_email: Option<String>,
    /// Data columns with their column LF-tags.
    pub columns: Vec<(Column, BTreeMap<String, String>)>,
    /// Partition keys, in order.
    pub partition_keys: Vec<Column>,
    /// Storage format (`parquet`, ...).
    pub format: String,
    /// `s3://...` location of the data.
    pub location: String,
    /// Table LF-tags.
    pub table_tags: BTreeMap<String, String>,
    /// Registry compatibility mode (`BACKWARD`, ...).
    pub compatibility: String,
    /// Registry data format (`AVRO`, `JSON`).
    pub data_format: String,
    /// Registry schema ARN, once known.
    pub schema_arn: Option<String>,
    /// Registry schema version number, once known.
    pub schema_version: Option<i64>,
    /// DQDL rules, one per element.
    pub quality_rules: Vec<String>,
    /// Freshness SLA in minutes.
    pub freshness_minutes: Option<i64>,
    /// The lowest acceptable quality score (0 to 1), when the SLA states one.
    pub min_quality_score: Option<f64>,
    /// The CloudWatch alarms watching the SLA.
    pub alarms: Vec<String>,
}

impl Contract {
    /// The document: pretty JSON (2-space indent) with a trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut text = self.document().pretty();
        text.push('\n');
        text.into_bytes()
    }

    /// Lowercase hex SHA-256 of `bytes`.
    pub fn sha256_hex(bytes: &[u8]) -> String {
        let digest = Sha256::digest(bytes);
        let mut out = String::with_capacity(64);
        for byte in digest.iter() {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        out
    }

    /// The Glue table's qualified name, `<domain>_products.<name>`.
    pub fn physical_name(&self) -> String {
        format!("{}_products.{}", self.domain, self.name)
    }

    fn document(&self) -> Json {
        let version = match self.schema_version {
            Some(v) => format!("{v}.0.0"),
            None => "0.0.0".to_string(),
        };
        let mut doc = vec![
            ("apiVersion", Json::str(API_VERSION)),
            ("kind", Json::str("DataContract")),
            ("id", Json::str(format!("{}/{}", self.domain, self.name))),
            ("name", Json::str(self.name.clone())),
            ("version", Json::str(version)),
            ("status", Json::str("active")),
            ("domain", Json::str(self.domain.clone())),
            ("dataProduct", Json::str(self.name.clone())),
        ];
        if let Some(description) = &self.description {
            doc.push((
                "description",
                Json::obj(vec![("purpose", Json::str(description.clone()))]),
            ));
        }
        if self.owner_team.is_some() || self.owner_email.is_some() {
            let mut team = Vec::new();
            if let Some(name) = &self.owner_team {
                team.push(("name", Json::str(name.clone())));
            }
            if let Some(email) = &self.owner_email {
                team.push((
                    "members",
                    Json::Array(vec![Json::obj(vec![
                        ("username", Json::str(email.clone())),
                        ("role", Json::str("owner")),
                    ])]),
                ));
            }
            doc.push(("team", Json::obj(team)));
        }
        doc.push(("schema", Json::Array(vec![self.schema_object()])));
        if let Some(minutes) = self.freshness_minutes {
            let mut sla = vec![Json::obj(vec![
                ("property", Json::str("freshness")),
                ("value", Json::int(minutes)),
                ("unit", Json::str("m")),
            ])];
            if let Some(score) = self.min_quality_score {
                sla.push(Json::obj(vec![
                    ("property", Json::str("qualityScore")),
                    ("value", Json::Number(format!("{score}"))),
                ]));
            }
            doc.push(("slaProperties", Json::Array(sla)));
        }
        if !self.table_tags.is_empty() {
            doc.push(("tags", tags(&self.table_tags)));
        }
        let mut custom = Vec::new();
        let mut prop = |name: &str, value: Json| {
            custom.push(Json::obj(vec![
                ("property", Json::str(name)),
                ("value", value),
            ]));
        };
        if let Some(arn) = &self.schema_arn {
            prop("schemaRegistryArn", Json::str(arn.clone()));
        }
        if let Some(version) = self.schema_version {
            prop("schemaVersion", Json::int(version));
        }
        prop("compatibility", Json::str(self.compatibility.clone()));
        prop("dataFormat", Json::str(self.data_format.clone()));
        prop("location", Json::str(self.location.clone()));
        prop("format", Json::str(self.format.clone()));
        if !self.alarms.is_empty() {
            prop(
                "slaAlarms",
                Json::Array(self.alarms.iter().map(|a| Json::str(a.clone())).collect()),
            );
        }
        doc.push(("customProperties", Json::Array(custom)));
        Json::obj(doc)
    }

    fn schema_object(&self) -> Json {
        let empty = BTreeMap::new();
        let mut properties: Vec<Json> = self
            .columns
            .iter()
            .map(|(column, column_tags)| property(column, column_tags, None))
            .collect();
        properties.extend(
            self.partition_keys
                .iter()
                .enumerate()
                .map(|(i, key)| property(key, &empty, Some(i + 1))),
        );
        let mut schema = vec![
            ("name", Json::str(self.name.clone())),
            ("physicalName", Json::str(self.physical_name())),
            ("physicalType", Json::str("table")),
        ];
        if let Some(description) = &self.description {
            schema.push(("description", Json::str(description.clone())));
        }
        schema.push(("properties", Json::Array(properties)));
        if !self.quality_rules.is_empty() {
            schema.push((
                "quality",
                Json::Array(vec![Json::obj(vec![
                    ("type", Json::str("custom")),
                    ("engine", Json::str("glue-data-quality")),
                    (
                        "implementation",
                        Json::str(dqdl::ruleset(&self.quality_rules)),
                    ),
                ])]),
            ));
        }
        Json::obj(schema)
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// `["key=value", ...]` in key order.
fn tags(tags: &BTreeMap<String, String>) -> Json {
    Json::Array(
        tags.iter()
            .map(|(k, v)| Json::str(format!("{k}={v}")))
            .collect(),
    )
}

/// ODCS logical type of a Glue type.
pub fn logical_type(ty: &GlueType) -> &'static str {
    match ty {
        GlueType::String | GlueType::Char(_) | GlueType::Varchar(_) | GlueType::Binary => "string",
        GlueType::TinyInt | GlueType::SmallInt | GlueType::Int | GlueType::BigInt => "integer",
        GlueType::Float | GlueType::Double | GlueType::Decimal { .. } => "number",
        GlueType::Boolean => "boolean",
        GlueType::Date => "date",
        GlueType::Timestamp => "timestamp",
        GlueType::Array(_) => "array",
        GlueType::Map(..) | GlueType::Struct(_) => "object",
    }
}

fn property(
    column: &Column,
    column_tags: &BTreeMap<String, String>,
    partition_position: Option<usize>,
) -> Json {
    let mut p = vec![
        ("name", Json::str(column.name.clone())),
        ("logicalType", Json::str(logical_type(&column.ty))),
        ("physicalType", Json::str(column.ty.to_string())),
        ("required", Json::Bool(!column.nullable)),
        ("partitioned", Json::Bool(partition_position.is_some())),
    ];
    if let Some(position) = partition_position {
        p.push(("partitionKeyPosition", Json::int(position as i64)));
    }
    if let Some(comment) = &column.comment {
        p.push(("description", Json::str(comment.clone())));
    }
    if !column_tags.is_empty() {
        p.push(("tags", tags(column_tags)));
    }
    nested(&column.ty, &mut p);
    Json::obj(p)
}

/// ODCS nested `properties` (structs) and `items` (arrays).
fn nested(ty: &GlueType, p: &mut Vec<(&'static str, Json)>) {
    match ty {
        GlueType::Struct(fields) => p.push((
            "properties",
            Json::Array(
                fields
                    .iter()
                    .map(|(name, ty)| {
                        let mut f = vec![
                            ("name", Json::str(name.clone())),
                            ("logicalType", Json::str(logical_type(ty))),
                            ("physicalType", Json::str(ty.to_string())),
                            ("required", Json::Bool(false)),
                        ];
                        nested(ty, &mut f);
                        Json::obj(f)
                    })
                    .collect(),
            ),
        )),
        GlueType::Array(item) => {
            let mut i = vec![
                ("logicalType", Json::str(logical_type(item))),
                ("physicalType", Json::str(item.to_string())),
            ];
            nested(item, &mut i);
            p.push(("items", Json::obj(i)));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::glue_type;

    fn col(name: &str, ty: &str, nullable: bool) -> Column {
        Column {
            name: name.into(),
            ty: glue_type::parse(ty).unwrap_or_else(|e| panic!("{e}")),
            comment: None,
            nullable,
        }
    }

    fn contract() -> Contract {
        Contract {
            domain: "commerce".into(),
            name: "orders".into(),
            description: Some("Orders placed in the web shop".into()),
            owner_team: Some("checkout".into()),
            owner_email: Some("checkout@example.com".into()),
            columns: vec![
                (
                    col("order_id", "string", false).with_comment("Order key"),
                    BTreeMap::new(),
                ),
                (
                    col("customer_id", "string", true),
                    BTreeMap::from([
                        ("pii".to_string(), "true".to_string()),
                        ("classification".to_string(), "internal".to_string()),
                    ]),
                ),
                (col("order_amount", "decimal(12,2)", true), BTreeMap::new()),
                (
                    col("lines", "array<struct<sku:string>>", true),
                    BTreeMap::new(),
                ),
            ],
            partition_keys: vec![col("dt", "date", false)],
            format: "parquet".into(),
            location: "s3://commerce-data/products/orders/".into(),
            table_tags: BTreeMap::from([("domain".to_string(), "commerce".to_string())]),
            compatibility: "BACKWARD".into(),
            data_format: "AVRO".into(),
            schema_arn: Some("arn:aws:glue:eu-west-1:111122223333:schema/commerce/orders".into()),
            schema_version: Some(3),
            quality_rules: vec!["IsComplete \"order_id\"".into(), "RowCount > 0".into()],
            freshness_minutes: Some(60),
            min_quality_score: None,
            alarms: Vec::new(),
        }
    }

    const GOLDEN: &str = r#"{
  "apiVersion": "v3.0.0",
  "kind": "DataContract",
  "id": "commerce/orders",
  "name": "orders",
  "version": "3.0.0",
  "status": "active",
  "domain": "commerce",
  "dataProduct": "orders",
  "description": {
    "purpose": "Orders placed in the web shop"
  },
  "team": {
    "name": "checkout",
    "members": [
      {
        "username": "checkout@example.com",
        "role": "owner"
      }
    ]
  },
  "schema": [
    {
      "name": "orders",
      "physicalName": "commerce_products.orders",
      "physicalType": "table",
      "description": "Orders placed in the web shop",
      "properties": [
        {
          "name": "order_id",
          "logicalType": "string",
          "physicalType": "string",
          "required": true,
          "partitioned": false,
          "description": "Order key"
        },
        {
          "name": "customer_id",
          "logicalType": "string",
          "physicalType": "string",
          "required": false,
          "partitioned": false,
          "tags": [
            "classification=internal",
            "pii=true"
          ]
        },
        {
          "name": "order_amount",
          "logicalType": "number",
          "physicalType": "decimal(12,2)",
          "required": false,
          "partitioned": false
        },
        {
          "name": "lines",
          "logicalType": "array",
          "physicalType": "array<struct<sku:string>>",
          "required": false,
          "partitioned": false,
          "items": {
            "logicalType": "object",
            "physicalType": "struct<sku:string>",
            "properties": [
              {
                "name": "sku",
                "logicalType": "string",
                "physicalType": "string",
                "required": false
              }
            ]
          }
        },
        {
          "name": "dt",
          "logicalType": "date",
          "physicalType": "date",
          "required": true,
          "partitioned": true,
          "partitionKeyPosition": 1
        }
      ],
      "quality": [
        {
          "type": "custom",
          "engine": "glue-data-quality",
          "implementation": "Rules = [\n    IsComplete \"order_id\",\n    RowCount > 0\n]"
        }
      ]
    }
  ],
  "slaProperties": [
    {
      "property": "freshness",
      "value": 60,
      "unit": "m"
    }
  ],
  "tags": [
    "domain=commerce"
  ],
  "customProperties": [
    {
      "property": "schemaRegistryArn",
      "value": "arn:aws:glue:eu-west-1:111122223333:schema/commerce/orders"
    },
    {
      "property": "schemaVersion",
      "value": 3
    },
    {
      "property": "compatibility",
      "value": "BACKWARD"
    },
    {
      "property": "dataFormat",
      "value": "AVRO"
    },
    {
      "property": "location",
      "value": "s3://commerce-data/products/orders/"
    },
    {
      "property": "format",
      "value": "parquet"
    }
  ]
}
"#;

    #[test]
    fn golden_document() {
        let bytes = contract().to_json();
        assert_eq!(String::from_utf8_lossy(&bytes), GOLDEN);
    }

    #[test]
    fn deterministic_and_valid_json() {
        let a = contract().to_json();
        assert_eq!(a, contract().to_json());
        assert_eq!(
            Contract::sha256_hex(&a),
            Contract::sha256_hex(&contract().to_json())
        );
        let parsed: serde_json::Value =
            serde_json::from_slice(&a).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed["schema"][0]["properties"][4]["partitioned"], true);
    }

    #[test]
    fn minimal_document_omits_what_is_unknown() {
        let c = Contract {
            description: None,
            owner_team: None,
            owner_email: None,
            table_tags: BTreeMap::new(),
            schema_arn: None,
            schema_version: None,
            quality_rules: vec![],
            freshness_minutes: None,
            min_quality_score: None,
            alarms: Vec::new(),
            ..contract()
        };
        let text = String::from_utf8(c.to_json()).unwrap_or_default();
        assert!(text.contains("\"version\": \"0.0.0\""), "{text}");
        for absent in [
            "\"team\"",
            "\"description\": {",
            "slaProperties",
            "\"quality\"",
            "schemaRegistryArn",
            "schemaVersion",
            "\"tags\": [\n    \"domain",
        ] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
        let only_email = Contract {
            owner_team: None,
            ..contract()
        };
        let text = String::from_utf8(only_email.to_json()).unwrap_or_default();
        assert!(text.contains("\"team\": {\n    \"members\""), "{text}");
    }

    #[test]
    fn any_change_changes_the_hash() {
        let base = Contract::sha256_hex(&contract().to_json());
        let mut c = contract();
        c.columns[0].0.nullable = true;
        assert_ne!(Contract::sha256_hex(&c.to_json()), base);
        let mut c = contract();
        c.quality_rules.push("IsUnique \"order_id\"".into());
        assert_ne!(Contract::sha256_hex(&c.to_json()), base);
    }

    #[test]
    fn sha256_of_known_inputs() {
        assert_eq!(
            Contract::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Contract::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn logical_types() {
        for (ty, logical) in [
            ("varchar(3)", "string"),
            ("binary", "string"),
            ("tinyint", "integer"),
            ("bigint", "integer"),
            ("float", "number"),
            ("decimal(5,2)", "number"),
            ("boolean", "boolean"),
            ("date", "date"),
            ("timestamp", "timestamp"),
            ("array<int>", "array"),
            ("map<string,int>", "object"),
            ("struct<a:int>", "object"),
        ] {
            assert_eq!(logical_type(&col("x", ty, true).ty), logical, "{ty}");
        }
    }
}
