//! What the user declared, parsed once ([`Spec`]), where the product lives ([`Home`]), and what
//! the declaration expands to: the Glue table input, the contract document, the state.

use super::*;

// Table parameters where the product keeps what read and import need (one home: rules::param).
pub(super) use crate::rules::param::{
    CONTRACT as P_CONTRACT, DATA_FORMAT as P_DATA_FORMAT, DOMAIN as P_DOMAIN,
    FRESHNESS as P_FRESHNESS, NULLABLE as C_NULLABLE, OWNER_EMAIL as P_EMAIL, OWNER_TEAM as P_TEAM,
    REGISTRY as P_REGISTRY, RULES as P_RULES, SCHEMA_ARN as P_SCHEMA_ARN,
    SCHEMA_VERSION as P_SCHEMA_VERSION,
};

/// A model's content, parsed once and known: what every operation works from.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub(super) domain: String,
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) owner: Option<(String, String)>,
    pub(super) format: Format,
    pub(super) columns: Vec<Column>,
    pub(super) column_tags: Vec<BTreeMap<String, String>>,
    pub(super) partition_keys: Vec<Column>,
    pub(super) table_tags: BTreeMap<String, String>,
    pub(super) registry: String,
    pub(super) compatibility: Compatibility,
    pub(super) data_format: DataFormat,
    pub(super) rules: Vec<String>,
    pub(super) freshness: Option<i64>,
    pub(super) watch: Watch,
    pub(super) force_destroy: bool,
}

/// How the SLA is watched, beyond the freshness bound.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watch {
    /// The quality alarm's threshold; `None`: no quality alarm.
    pub(super) min_quality: Option<f64>,
    pub(super) alarm_actions: BTreeSet<String>,
    pub(super) ok_actions: BTreeSet<String>,
}

pub(super) fn parse_type(ty: &str) -> Result<GlueType, Diagnostics> {
    glue_type::parse(ty).map_err(|e| {
        Diagnostic::provider_bug(format!(
            "type {ty:?} passed validation but does not parse: {e}"
        ))
        .into()
    })
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        let bug = |what: &str| {
            Diagnostics::from(Diagnostic::provider_bug(format!(
                "{what} passed validation but is invalid"
            )))
        };
        let mut columns = Vec::new();
        let mut column_tags = Vec::new();
        for c in known(&m.column, "column")? {
            columns.push(Column {
                name: known(&c.name, "column.name")?.clone(),
                ty: parse_type(known(&c.ty, "column.type")?)?,
                comment: c.comment.known().cloned(),
                nullable: *known(&c.nullable, "column.nullable")?,
            });
            column_tags.push(c.lf_tags.known().cloned().unwrap_or_default());
        }
        let mut partition_keys = Vec::new();
        for p in m.partition_key.known().into_iter().flatten() {
            partition_keys.push(Column {
                name: known(&p.name, "partition_key.name")?.clone(),
                ty: parse_type(known(&p.ty, "partition_key.type")?)?,
                comment: p.comment.known().cloned(),
                nullable: false,
            });
        }
        let contract = known(&m.schema_contract, "schema_contract")?;
        let domain = known(&m.domain, "domain")?.clone();
        let table_tags = ontology::declared(&m.lf_tags, &domain);
        Ok(Self {
            name: known(&m.name, "name")?.clone(),
            description: m.description.known().cloned(),
            owner: m
                .owner
                .known()
                .and_then(|o| Some((o.team.known()?.clone(), o.email.known()?.clone()))),
            format: Format::from_str(known(&m.format, "format")?).map_err(|_| bug("format"))?,
            columns,
            column_tags,
            partition_keys,
            table_tags,
            registry: known(&contract.registry, "schema_contract.registry")?.clone(),
            compatibility: Compatibility::from_str(known(
                &contract.compatibility,
                "schema_contract.compatibility",
            )?)
            .map_err(|_| bug("compatibility"))?,
            data_format: DataFormat::from_str(known(
                &contract.data_format,
                "schema_contract.data_format",
            )?)
            .map_err(|_| bug("data_format"))?,
            rules: m.quality_rules.known().cloned().unwrap_or_default(),
            freshness: m
                .sla
                .known()
                .and_then(|s| s.freshness_minutes.known().copied()),
            watch: m
                .sla
                .known()
                .map(|s| Watch {
                    min_quality: s.min_quality_score.known().copied(),
                    alarm_actions: s.alarm_actions.known().cloned().unwrap_or_default(),
                    ok_actions: s.ok_actions.known().cloned().unwrap_or_default(),
                })
                .unwrap_or_default(),
            force_destroy: *known(&m.force_destroy, "force_destroy")?,
            domain,
        })
    }

    pub(super) fn database(&self) -> String {
        database_name(&self.domain)
    }

    pub(super) fn schema_name(&self) -> String {
        self.id().schema_name()
    }

    pub(super) fn prefix(&self) -> String {
        self.id().prefix()
    }

    pub(super) fn metadata_key(&self) -> String {
        self.id().metadata_key()
    }

    pub(super) fn definition(&self) -> String {
        reg::definition(
            self.data_format,
            &self.name,
            &format!("mesh.{}", self.domain),
            &self.columns,
        )
    }

    /// Everything that shapes the registered schema.
    pub(super) fn same_schema(&self, other: &Spec) -> bool {
        self.columns == other.columns && self.data_format == other.data_format
    }
}

/// Where a product lives, learned from its domain.
#[derive(Debug, Clone)]
pub(super) struct Home {
    pub(super) bucket: String,
    pub(super) region: String,
    pub(super) catalog_id: String,
    pub(super) owner: (String, String),
}

/// The registry schema as created or found.
#[derive(Debug, Clone)]
pub(super) struct Registered {
    pub(super) arn: String,
    pub(super) version: i64,
}

pub(super) fn table_resource(
    catalog_id: &str,
    database: &str,
    name: &str,
) -> Result<LfResource, Diagnostics> {
    let t = TableResource::builder()
        .catalog_id(catalog_id)
        .database_name(database)
        .name(name)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().table(t).build())
}

pub(super) fn columns_resource(
    catalog_id: &str,
    database: &str,
    name: &str,
    columns: Vec<String>,
) -> Result<LfResource, Diagnostics> {
    let t = TableWithColumnsResource::builder()
        .catalog_id(catalog_id)
        .database_name(database)
        .name(name)
        .set_column_names(Some(columns))
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().table_with_columns(t).build())
}

pub(super) fn glue_column(c: &Column) -> Result<GlueColumn, Diagnostics> {
    GlueColumn::builder()
        .name(&c.name)
        .r#type(c.ty.to_string())
        .set_comment(c.comment.clone())
        .parameters(C_NULLABLE, c.nullable.to_string())
        .build()
        .map_err(|e| Diagnostic::provider_bug(e).into())
}

/// A product's id, `<domain>/<name>`: parsed once, written one way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductId {
    pub(super) domain: String,
    pub(super) name: String,
}

impl ProductId {
    /// Parses and checks `<domain>/<name>`; the error says what is wrong.
    pub(super) fn parse(id: &str) -> Result<ProductId, String> {
        let (domain, name) = id
            .split_once('/')
            .ok_or_else(|| format!("{id:?} has no '/'."))?;
        if let Some(problem) = rules::check_domain_name(domain).or_else(|| check_product_name(name))
        {
            return Err(problem);
        }
        Ok(ProductId {
            domain: domain.to_string(),
            name: name.to_string(),
        })
    }
}

impl ProductId {
    /// The domain's database, which holds the product's table.
    pub(super) fn database(&self) -> String {
        database_name(&self.domain)
    }

    /// The product's schema in the registry.
    pub(super) fn schema_name(&self) -> String {
        format!("{}.{}", self.domain, self.name)
    }

    /// The product's prefix in its domain's bucket.
    pub(super) fn prefix(&self) -> String {
        format!("products/{}/", self.name)
    }

    /// The contract document's key.
    pub(super) fn metadata_key(&self) -> String {
        format!("{}_metadata/product.json", self.prefix())
    }
}

impl std::fmt::Display for ProductId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.domain, self.name)
    }
}

impl Spec {
    /// The product's id.
    pub(super) fn id(&self) -> ProductId {
        ProductId {
            domain: self.domain.clone(),
            name: self.name.clone(),
        }
    }
}

/// The bucket of an `s3://BUCKET/...` location.
pub(super) fn bucket_of(location: &str) -> Option<String> {
    let bucket = location.strip_prefix("s3://")?.split('/').next()?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

pub(super) fn location(bucket: &str, spec: &Spec) -> String {
    format!("s3://{bucket}/{}", spec.prefix())
}

pub(super) fn contract_uri(bucket: &str, spec: &Spec) -> String {
    format!("s3://{bucket}/{}", spec.metadata_key())
}

pub(super) fn table_arn(home: &Home, spec: &Spec) -> String {
    format!(
        "arn:aws:glue:{}:{}:table/{}/{}",
        home.region,
        home.catalog_id,
        spec.database(),
        spec.name
    )
}

impl DataProduct {
    pub(super) fn contract(&self, spec: &Spec, home: &Home, reg: &Registered) -> Contract {
        let owner = spec.owner.clone().unwrap_or_else(|| home.owner.clone());
        Contract {
            domain: spec.domain.clone(),
            name: spec.name.clone(),
            description: spec.description.clone(),
            owner_team: Some(owner.0),
            owner_email: Some(owner.1),
            columns: spec
                .columns
                .iter()
                .cloned()
                .zip(spec.column_tags.iter().cloned())
                .collect(),
            partition_keys: spec.partition_keys.clone(),
            format: spec.format.as_str().to_string(),
            location: location(&home.bucket, spec),
            table_tags: spec.table_tags.clone(),
            compatibility: spec.compatibility.as_str().to_string(),
            data_format: spec.data_format.as_str().to_string(),
            schema_arn: Some(reg.arn.clone()),
            schema_version: Some(reg.version),
            quality_rules: spec.rules.clone(),
            freshness_minutes: spec.freshness,
            min_quality_score: spec.freshness.and(spec.watch.min_quality),
            alarms: alarms::expected(spec).into_iter().map(|a| a.name).collect(),
        }
    }

    /// The contract document `model` publishes, when its values are all known: what S3 must
    /// hold. `owner` is the effective owner the table records (the domain's by default).
    pub(super) fn expected_contract(
        &self,
        model: &Model,
        owner: (String, String),
    ) -> Result<Option<Vec<u8>>, Diagnostics> {
        let bucket = model
            .location
            .known()
            .and_then(|l| l.strip_prefix("s3://"))
            .and_then(|l| l.split('/').next());
        let (Some(bucket), Some(arn), Some(version)) = (
            bucket,
            model.schema_arn.known(),
            model.schema_version_number.known(),
        ) else {
            return Ok(None);
        };
        let spec = Spec::from(model)?;
        let home = Home {
            bucket: bucket.to_string(),
            region: String::new(),
            catalog_id: String::new(),
            owner,
        };
        let reg = Registered {
            arn: arn.clone(),
            version: *version,
        };
        Ok(Some(self.contract(&spec, &home, &reg).to_json()))
    }

    pub(super) fn table_input(
        &self,
        spec: &Spec,
        home: &Home,
        reg: &Registered,
    ) -> Result<TableInput, Diagnostics> {
        let storage = spec.format.storage();
        let owner = spec.owner.clone().unwrap_or_else(|| home.owner.clone());
        let mut params: HashMap<String, String> = HashMap::from([
            (
                "classification".to_string(),
                storage.classification.to_string(),
            ),
            (P_DOMAIN.to_string(), spec.domain.clone()),
            (P_TEAM.to_string(), owner.0),
            (P_EMAIL.to_string(), owner.1),
            (P_REGISTRY.to_string(), spec.registry.clone()),
            (P_SCHEMA_ARN.to_string(), reg.arn.clone()),
            (P_SCHEMA_VERSION.to_string(), reg.version.to_string()),
            (
                P_DATA_FORMAT.to_string(),
                spec.data_format.as_str().to_string(),
            ),
            (P_CONTRACT.to_string(), contract_uri(&home.bucket, spec)),
        ]);
        if let Some(f) = spec.freshness {
            params.insert(P_FRESHNESS.to_string(), f.to_string());
        }
        if !spec.rules.is_empty() {
            params.insert(
                P_RULES.to_string(),
                serde_json::to_string(&spec.rules).unwrap_or_default(),
            );
        }
        let serde = SerDeInfo::builder()
            .serialization_library(storage.serde_library)
            .set_parameters(Some(
                storage
                    .serde_parameters
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .build();
        let sd = StorageDescriptor::builder()
            .set_columns(Some(
                spec.columns
                    .iter()
                    .map(glue_column)
                    .collect::<Result<_, _>>()?,
            ))
            .location(location(&home.bucket, spec))
            .input_format(storage.input_format)
            .output_format(storage.output_format)
            .serde_info(serde)
            .build();
        TableInput::builder()
            .name(&spec.name)
            .set_description(spec.description.clone())
            .table_type("EXTERNAL_TABLE")
            .storage_descriptor(sd)
            .set_partition_keys(Some(
                spec.partition_keys
                    .iter()
                    .map(glue_column)
                    .collect::<Result<_, _>>()?,
            ))
            .set_parameters(Some(params))
            .build()
            .map_err(|e| Diagnostic::provider_bug(e).into())
    }

    pub(super) fn state(
        &self,
        spec: &Spec,
        home: &Home,
        reg: &Registered,
        sha: String,
        planned: &Model,
    ) -> Model {
        Model {
            id: Attr::Known(spec.id().to_string()),
            database_name: Attr::Known(spec.database()),
            table_arn: Attr::Known(table_arn(home, spec)),
            location: Attr::Known(location(&home.bucket, spec)),
            schema_arn: Attr::Known(reg.arn.clone()),
            schema_version_number: Attr::Known(reg.version),
            contract_uri: Attr::Known(contract_uri(&home.bucket, spec)),
            contract_sha256: Attr::Known(sha),
            alarm_names: Attr::Known(alarms::expected(spec).into_iter().map(|a| a.name).collect()),
            ..planned.clone()
        }
    }

    pub(super) fn tag_uses(m: &Model) -> Vec<TagUse> {
        let mut uses = ontology::declared_uses(
            AttributePath::attr("domain"),
            &m.domain,
            AttributePath::attr("lf_tags"),
            &m.lf_tags,
        );
        for (i, c) in m.column.known().into_iter().flatten().enumerate() {
            let at = AttributePath::attr("column")
                .then_index(i)
                .then_attr("lf_tags");
            uses.extend(ontology::map_uses(at, &c.lf_tags));
        }
        uses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model a configuration declares, as the plan hands it over (defaults applied).
    fn planned() -> Model {
        Model {
            domain: Attr::Known("commerce".into()),
            name: Attr::Known("orders".into()),
            description: Attr::Known("Orders".into()),
            format: Attr::Known("parquet".into()),
            column: Attr::Known(vec![
                ColumnBlock {
                    name: Attr::Known("order_id".into()),
                    ty: Attr::Known("bigint".into()),
                    nullable: Attr::Known(false),
                    ..ColumnBlock::default()
                },
                ColumnBlock {
                    name: Attr::Known("amount".into()),
                    ty: Attr::Known("decimal(10,2)".into()),
                    nullable: Attr::Known(true),
                    lf_tags: Attr::Known([("sensitivity".into(), "confidential".into())].into()),
                    ..ColumnBlock::default()
                },
            ]),
            partition_key: Attr::Known(vec![]),
            schema_contract: Attr::Known(SchemaContract {
                registry: Attr::Known("contracts".into()),
                compatibility: Attr::Known("BACKWARD".into()),
                data_format: Attr::Known("AVRO".into()),
            }),
            quality_rules: Attr::Known(vec!["IsComplete \"order_id\"".into()]),
            sla: Attr::Known(Sla {
                freshness_minutes: Attr::Known(60),
                ..Sla::default()
            }),
            force_destroy: Attr::Known(false),
            ..Model::default()
        }
    }

    fn home() -> Home {
        Home {
            bucket: "mesh-commerce".into(),
            region: "eu-west-1".into(),
            catalog_id: "444455556666".into(),
            owner: ("sales".into(), "sales@example.com".into()),
        }
    }

    fn registered() -> Registered {
        Registered {
            arn: "arn:aws:glue:eu-west-1:444455556666:schema/contracts/commerce.orders".into(),
            version: 2,
        }
    }

    #[test]
    fn product_ids_parse_once() {
        let id = ProductId::parse("commerce/orders").unwrap();
        assert_eq!(
            (id.domain.as_str(), id.name.as_str()),
            ("commerce", "orders")
        );
        assert_eq!(id.to_string(), "commerce/orders");
        assert!(ProductId::parse("commerce").unwrap_err().contains("no '/'"));
        assert!(ProductId::parse("Commerce/orders").is_err());
        assert!(ProductId::parse("commerce/Orders").is_err());
    }

    #[test]
    fn buckets_of_locations() {
        assert_eq!(bucket_of("s3://b/products/x/").as_deref(), Some("b"));
        assert_eq!(bucket_of("s3://b").as_deref(), Some("b"));
        assert_eq!(bucket_of("s3:///x"), None);
        assert_eq!(bucket_of("https://b/x"), None);
    }

    #[test]
    fn the_declaration_expands_to_the_table_and_its_parameters() {
        let spec = Spec::from(&planned()).unwrap();
        assert_eq!(spec.database(), "commerce_products");
        assert_eq!(spec.schema_name(), "commerce.orders");
        assert_eq!(
            spec.metadata_key(),
            "products/orders/_metadata/product.json"
        );
        let input = DataProduct
            .table_input(&spec, &home(), &registered())
            .unwrap();
        assert_eq!(input.name(), "orders");
        let sd = input.storage_descriptor().unwrap();
        assert_eq!(sd.location(), Some("s3://mesh-commerce/products/orders/"));
        let columns: Vec<(&str, Option<&str>)> = sd
            .columns()
            .iter()
            .map(|c| (c.name(), c.r#type()))
            .collect();
        assert_eq!(
            columns,
            [
                ("order_id", Some("bigint")),
                ("amount", Some("decimal(10,2)"))
            ]
        );
        let params = input.parameters().unwrap();
        // What read and import need comes back from the table: the effective owner (the
        // domain's, as none is declared), the SLA, the rules, the registry.
        assert_eq!(params.get(P_TEAM).map(String::as_str), Some("sales"));
        assert_eq!(params.get(P_FRESHNESS).map(String::as_str), Some("60"));
        assert_eq!(
            params.get(P_REGISTRY).map(String::as_str),
            Some("contracts")
        );
        assert!(params.get(P_RULES).is_some_and(|r| r.contains("order_id")));
    }

    #[test]
    fn the_expected_document_is_the_one_the_state_publishes() {
        // What create writes and what read expects of the same product agree.
        let spec = Spec::from(&planned()).unwrap();
        let written = DataProduct
            .contract(&spec, &home(), &registered())
            .to_json();
        let state = DataProduct.state(&spec, &home(), &registered(), String::new(), &planned());
        let expected = DataProduct
            .expected_contract(&state, home().owner)
            .unwrap()
            .expect("every value known");
        assert_eq!(
            String::from_utf8(expected).unwrap(),
            String::from_utf8(written).unwrap()
        );
    }
}
