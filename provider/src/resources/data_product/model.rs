//! The model (typed state and configuration), the schema users write, and its checks.

use super::*;

/// The resource.
#[derive(Debug, Default)]
pub struct DataProduct;

/// A `column` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnBlock {
    /// Column name.
    pub name: Attr<String>,
    /// Glue/Hive type.
    #[serde(rename = "type")]
    pub ty: Attr<String>,
    /// Comment.
    pub comment: Attr<String>,
    /// May hold nulls.
    pub nullable: Attr<bool>,
    /// LF-tags on the column.
    pub lf_tags: Attr<BTreeMap<String, String>>,
}

/// A `partition_key` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionKey {
    /// Key name.
    pub name: Attr<String>,
    /// Glue/Hive type.
    #[serde(rename = "type")]
    pub ty: Attr<String>,
    /// Comment.
    pub comment: Attr<String>,
}

/// `schema_contract { registry, compatibility, data_format }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaContract {
    /// Registry name.
    pub registry: Attr<String>,
    /// Compatibility mode.
    pub compatibility: Attr<String>,
    /// AVRO or JSON.
    pub data_format: Attr<String>,
}

/// `sla { freshness_minutes, min_quality_score, alarm_actions, ok_actions }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    /// Largest age of the newest data.
    pub freshness_minutes: Attr<i64>,
    /// Lowest acceptable quality score (0 to 1); null: no quality alarm.
    pub min_quality_score: Attr<f64>,
    /// SNS topics told when an alarm fires.
    pub alarm_actions: Attr<BTreeSet<String>>,
    /// SNS topics told when an alarm recovers.
    pub ok_actions: Attr<BTreeSet<String>>,
}

/// `mesh_data_product`'s model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `<domain>/<name>`.
    pub id: Attr<String>,
    /// Domain name.
    pub domain: Attr<String>,
    /// Product name.
    pub name: Attr<String>,
    /// Description.
    pub description: Attr<String>,
    /// Owner (defaults to the domain's).
    pub owner: Attr<Owner>,
    /// Storage format.
    pub format: Attr<String>,
    /// Columns, in order.
    pub column: Attr<Vec<ColumnBlock>>,
    /// Partition keys, in order.
    pub partition_key: Attr<Vec<PartitionKey>>,
    /// Table-level LF-tags.
    pub lf_tags: Attr<BTreeMap<String, String>>,
    /// The registry contract.
    pub schema_contract: Attr<SchemaContract>,
    /// DQDL rules.
    pub quality_rules: Attr<Vec<String>>,
    /// Freshness SLA.
    pub sla: Attr<Sla>,
    /// Delete data objects on destroy.
    pub force_destroy: Attr<bool>,
    /// `<domain>_products`.
    pub database_name: Attr<String>,
    /// The table's ARN.
    pub table_arn: Attr<String>,
    /// `s3://<bucket>/products/<name>/`.
    pub location: Attr<String>,
    /// Registry schema ARN.
    pub schema_arn: Attr<String>,
    /// Latest registered schema version.
    pub schema_version_number: Attr<i64>,
    /// `<location>_metadata/product.json`.
    pub contract_uri: Attr<String>,
    /// SHA-256 of the contract document.
    pub contract_sha256: Attr<String>,
    /// The CloudWatch alarms watching the SLA.
    pub alarm_names: Attr<Vec<String>>,
}

pub(super) fn check_product_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!ok).then(|| format!("{name:?} is not a product name: use 1 to 128 lowercase letters, digits and underscores, starting with a letter (it names the Glue table)."))
}

pub(super) fn check_registry_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_$#.".contains(c));
    (!ok)
        .then(|| format!("{name:?} is not a registry name: 1 to 255 letters, digits and - _ $ # ."))
}

pub(super) fn type_validator() -> Validator {
    Validator::string("Glue column type", "Invalid column type", |s| {
        glue_type::parse(s)
            .err()
            .map(|e| format!("{s:?} is not a Glue column type: {e}."))
    })
}

pub(super) fn schema() -> Schema {
    let computed = |name: &str, description: &str| {
        Attribute::string(name)
            .computed()
            .use_state_for_unknown()
            .describe(description)
    };
    Schema::new(
        Block::new(
            "A governed data product of a domain, as one resource: the Glue table at \
             `s3://<bucket>/products/<name>/` (columns, partition keys, storage and SerDe for the \
             format), LF-tags on the table (`domain` always) and on columns, a schema contract in \
             the Glue Schema Registry generated from the columns (AVRO or JSON), quality rules in \
             DQDL, a freshness SLA, the owner (the domain's unless set), and a machine-readable \
             contract document at `<location>_metadata/product.json`.\n\n\
             Column types, names, DQDL rules, compatibility modes and LF-tags are checked at \
             `terraform validate` and `plan`. A column change is checked at plan time against the \
             versions the compatibility mode names: an incompatible change (removing a column \
             under BACKWARD, adding a non-nullable column, changing a type) fails the plan naming \
             the column and the mode; a compatible one updates in place and registers a new \
             schema version.\n\n\
             A create that fails part-way undoes what it did. Destroy deletes the table, the \
             registry schema and `_metadata/`, and keeps every data object under the location \
             unless `force_destroy = true`.\n\n\
             The quality rules are published as a DQDL ruleset in the contract document; the \
             Glue Data Quality ruleset API is not called (the local emulator lacks it).\n\n\
             Import with `terraform import mesh_data_product.NAME <domain>/<name>`.",
        )
        .attribute(computed("id", "`<domain>/<name>`."))
        .attribute(
            Attribute::string("domain")
                .required()
                .requires_replace()
                .describe("The owning domain's name (its `mesh_domain`). Changing it replaces the product.")
                .validate(Validator::string("domain name rules", "Invalid domain name", rules::check_domain_name)),
        )
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .describe("Product name: lowercase letters, digits and underscores; names the Glue table. Changing it replaces the product.")
                .validate(Validator::string("product name rules", "Invalid product name", check_product_name)),
        )
        .attribute(Attribute::string("description").optional().describe("What the product holds; on the table and in the contract."))
        .attribute(
            Attribute::string("format")
                .default_value(Value::String("parquet".into()))
                .describe("Storage format: `parquet` (default), `orc`, `json`, `csv` or `avro`; sets the table's input/output formats and SerDe.")
                .validate(Validator::one_of(&["parquet", "orc", "json", "csv", "avro"])),
        )
        .attribute(Attribute::new("lf_tags", Type::map(Type::String)).optional().describe("Table-level LF-tags (key = value), checked against the catalog's LF-tags at plan time. `domain = <domain>` is always added.").validate(ontology::tags_validator()))
        .attribute(
            Attribute::new("quality_rules", Type::list(Type::String))
                .optional()
                .describe("Data quality rules in DQDL, one rule per element, e.g. `IsComplete \"order_id\"`; checked at validate time and published in the contract as a ruleset.")
                .validate(Validator::string("DQDL rule", "Invalid DQDL rule", |s| dqdl::check_rule(s).err()).each()),
        )
        .attribute(Attribute::bool("force_destroy").default_value(Value::Bool(false)).describe("On destroy, also delete every data object under the location. Default `false`: data is kept."))
        .attribute(computed("database_name", "The domain's Glue database, `<domain>_products`."))
        .attribute(computed("table_arn", "The Glue table's ARN."))
        .attribute(computed("location", "`s3://<bucket>/products/<name>/`."))
        .attribute(computed("schema_arn", "The registry schema's ARN."))
        .attribute(Attribute::number("schema_version_number").computed().describe("The latest registered schema version."))
        .attribute(computed("contract_uri", "The contract document, `<location>_metadata/product.json`."))
        .attribute(Attribute::string("contract_sha256").computed().describe("SHA-256 (hex) of the contract document."))
        .attribute(Attribute::new("alarm_names", Type::list(Type::String)).computed().describe("The CloudWatch alarms watching the SLA: `<domain>-<name>-freshness`, and `<domain>-<name>-quality` with `sla.min_quality_score`. Empty without an `sla`."))
        .block(NestedBlock::new(
            "owner",
            Nesting::Single,
            Block::new("The owner; defaults to the domain's.")
                .attribute(Attribute::string("team").required().describe("Owning team.").validate(Validator::length_between(1, 128)))
                .attribute(Attribute::string("email").required().describe("Contact address.").validate(Validator::length_between(3, 254))),
        ))
        .block(
            NestedBlock::new(
                "column",
                Nesting::List,
                Block::new("A column, in order.")
                    .attribute(Attribute::string("name").required().describe("Column name: lowercase letters, digits, underscores; not a reserved word.").validate(Validator::string("column name rules", "Invalid column name", check_column_name)))
                    .attribute(Attribute::string("type").required().describe("Glue/Hive type: `string`, `int`, `bigint`, `double`, `decimal(p,s)`, `boolean`, `date`, `timestamp`, `array<..>`, `map<..,..>`, `struct<..>`...").validate(type_validator()))
                    .attribute(Attribute::string("comment").optional().describe("Column comment."))
                    .attribute(Attribute::bool("nullable").default_value(Value::Bool(true)).describe("Whether the column may hold nulls (default `true`); a non-nullable column is required in the schema contract."))
                    .attribute(Attribute::new("lf_tags", Type::map(Type::String)).optional().describe("LF-tags on this column.").validate(ontology::tags_validator())),
            )
            .required(),
        )
        .block(NestedBlock::new(
            "partition_key",
            Nesting::List,
            Block::new("A partition key, in order.")
                .attribute(Attribute::string("name").required().describe("Partition key name.").validate(Validator::string("column name rules", "Invalid column name", check_column_name)))
                .attribute(Attribute::string("type").required().describe("Glue/Hive type.").validate(type_validator()))
                .attribute(Attribute::string("comment").optional().describe("Comment.")),
        ))
        .block(
            NestedBlock::new(
                "schema_contract",
                Nesting::Single,
                Block::new("The schema contract in the Glue Schema Registry (schema `<domain>.<name>`), generated from the columns.")
                    .attribute(Attribute::string("registry").required().describe("Registry name; created when missing.").validate(Validator::string("registry name", "Invalid registry name", check_registry_name)))
                    .attribute(
                        Attribute::string("compatibility")
                            .default_value(Value::String("BACKWARD".into()))
                            .describe("Compatibility mode: `NONE`, `DISABLED`, `BACKWARD` (default), `BACKWARD_ALL`, `FORWARD`, `FORWARD_ALL`, `FULL`, `FULL_ALL`. Changed in place.")
                            .validate(Validator::one_of(&["NONE", "DISABLED", "BACKWARD", "BACKWARD_ALL", "FORWARD", "FORWARD_ALL", "FULL", "FULL_ALL"])),
                    )
                    .attribute(
                        Attribute::string("data_format")
                            .default_value(Value::String("AVRO".into()))
                            .describe("`AVRO` (default) or `JSON`. Cannot change once the schema exists.")
                            .validate(Validator::one_of(&["AVRO", "JSON"])),
                    ),
            )
            .required(),
        )
        .block(NestedBlock::new(
            "sla",
            Nesting::Single,
            Block::new("Service levels, watched: the product owns a CloudWatch alarm `<domain>-<name>-freshness` on the mesh metric `DataMesh/freshness_minutes` (dimensions `Domain`, `Product`) that fires when the data is older than `freshness_minutes` or when no datapoint arrives (a dead pipeline alarms), and with `min_quality_score` an alarm `<domain>-<name>-quality` on `DataMesh/quality_score`. Those metrics come from the product's `_metadata/last_updated.json` through a scheduled publisher in the domain account (see the guide on watching SLAs); while nothing publishes them, the freshness alarm fires.").attribute(
                Attribute::number("freshness_minutes").required().describe("Largest acceptable age of the newest data, in minutes.").validate(Validator::new(format!("1 to {}", rules::MAX_FRESHNESS_MINUTES), |v, path, diags| {
                    if !matches!(v, Value::Number(n) if n.as_i64().is_some_and(|n| (1..=rules::MAX_FRESHNESS_MINUTES).contains(&n))) {
                        diags.error_at(path.clone(), "Invalid freshness", format!("`freshness_minutes` must be a whole number of minutes from 1 to {} (one year).", rules::MAX_FRESHNESS_MINUTES));
                    }
                })),
            )
            .attribute(
                Attribute::number("min_quality_score").optional().describe("Lowest acceptable quality score, from 0 to 1: below it (or with no datapoint) the quality alarm fires. Unset: no quality alarm.").validate(Validator::new("0 to 1", |v, path, diags| {
                    if !matches!(v, Value::Number(n) if (0.0..=1.0).contains(&n.as_f64())) {
                        diags.error_at(path.clone(), "Invalid quality score", "`min_quality_score` must be a number from 0 to 1.");
                    }
                })),
            )
            .attribute(
                Attribute::new("alarm_actions", Type::set(Type::String)).optional().describe("SNS topic ARNs told when an SLA alarm fires.").validate(Validator::string("SNS topic ARN", "Invalid alarm action", rules::check_sns_topic_arn).each()).validate(Validator::size_between(0, 5)),
            )
            .attribute(
                Attribute::new("ok_actions", Type::set(Type::String)).optional().describe("SNS topic ARNs told when an SLA alarm recovers.").validate(Validator::string("SNS topic ARN", "Invalid OK action", rules::check_sns_topic_arn).each()).validate(Validator::size_between(0, 5)),
            ),
        )),
    )
}

pub(super) fn validate(config: &Model, diags: &mut Diagnostics) {
    let columns: Vec<(usize, String)> = config
        .column
        .known()
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, c)| c.name.known().map(|n| (i, n.clone())))
        .collect();
    let mut seen = BTreeSet::new();
    for (i, name) in &columns {
        if !seen.insert(name.clone()) {
            diags.error_at(
                AttributePath::attr("column")
                    .then_index(*i)
                    .then_attr("name"),
                "Duplicate column",
                format!("Column {name:?} is declared more than once."),
            );
        }
    }
    for (i, p) in config
        .partition_key
        .known()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(name) = p.name.known() {
            if !seen.insert(name.clone()) {
                diags.error_at(
                    AttributePath::attr("partition_key")
                        .then_index(i)
                        .then_attr("name"),
                    "Duplicate column",
                    format!("{name:?} is already a column or partition key."),
                );
            }
        }
    }
    // Rules may only name columns the product has (when all names are known).
    let all_known = config
        .column
        .known()
        .is_some_and(|cs| cs.iter().all(|c| c.name.known().is_some()));
    if all_known {
        for (i, rule) in config
            .quality_rules
            .known()
            .into_iter()
            .flatten()
            .enumerate()
        {
            for col in dqdl::referenced_columns(rule) {
                if !seen.contains(&col) {
                    diags.error_at(AttributePath::attr("quality_rules").then_index(i), "Unknown column in rule", format!("The rule {rule:?} names column {col:?}, which the product does not have."));
                }
            }
        }
        if let Some(rules) = config.quality_rules.known() {
            if let Err(p) = dqdl::check_ruleset_length(&dqdl::ruleset(rules)) {
                diags.error_at(AttributePath::attr("quality_rules"), "Ruleset too long", p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str) -> ColumnBlock {
        ColumnBlock {
            name: Attr::Known(name.into()),
            ty: Attr::Known("string".into()),
            ..ColumnBlock::default()
        }
    }

    fn problems(config: &Model) -> Vec<String> {
        let mut diags = Diagnostics::new();
        validate(config, &mut diags);
        diags
            .0
            .iter()
            .map(|d| {
                let at = d.path.as_ref().map(ToString::to_string).unwrap_or_default();
                format!("{at}: {}", d.summary)
            })
            .collect()
    }

    #[test]
    fn names() {
        assert_eq!(check_product_name("orders_2024"), None);
        for bad in ["", "Orders", "2orders", "or-ders", &"o".repeat(129)] {
            assert!(check_product_name(bad).is_some(), "{bad}");
        }
        assert_eq!(check_registry_name("mesh-contracts_v1.$#"), None);
        assert!(check_registry_name("with space").is_some());
        assert!(check_registry_name("").is_some());
    }

    #[test]
    fn columns_partition_keys_and_rules_are_checked_together() {
        let config = Model {
            column: Attr::Known(vec![column("id"), column("amount"), column("id")]),
            partition_key: Attr::Known(vec![PartitionKey {
                name: Attr::Known("amount".into()),
                ty: Attr::Known("date".into()),
                ..PartitionKey::default()
            }]),
            quality_rules: Attr::Known(vec![
                "IsComplete \"id\"".into(),
                "IsComplete \"missing\"".into(),
            ]),
            ..Model::default()
        };
        assert_eq!(
            problems(&config),
            [
                "column[2].name: Duplicate column",
                "partition_key[0].name: Duplicate column",
                "quality_rules[1]: Unknown column in rule",
            ]
        );
    }

    #[test]
    fn rules_naming_columns_wait_for_every_column_name() {
        let config = Model {
            column: Attr::Known(vec![
                column("id"),
                ColumnBlock {
                    name: Attr::Unknown,
                    ..ColumnBlock::default()
                },
            ]),
            quality_rules: Attr::Known(vec!["IsComplete \"later\"".into()]),
            ..Model::default()
        };
        assert!(problems(&config).is_empty());
    }
}
