//! `mesh_data_product`: one governed data product: its Glue table under the domain's bucket,
//! LF-tags on the table and its columns, a schema contract in the Glue Schema Registry with
//! compatibility checked at plan time, quality rules (DQDL), a freshness SLA, and the
//! machine-readable contract document consumers and discovery read.
//!
//! The Glue Data Quality ruleset itself is carried in the contract document (as a DQDL ruleset)
//! rather than created with CreateDataQualityRuleset, which the local emulator does not serve.

use super::ontology::{self, Ontology, TagUse, DOMAIN_TAG};
use super::Owner;
use super::{aws_diag, known, storage};
use crate::aws::{Clients, Service};
use crate::contract::columns::{check_column_name, Column};
use crate::contract::document::Contract;
use crate::contract::dqdl;
use crate::contract::format::Format;
use crate::contract::glue_type::{self, GlueType};
use crate::contract::schema::{self as reg, Compatibility, DataFormat};
use crate::framework::value::{Attr, Value};
use crate::framework::{
    Attribute, AttributePath, Block, Diagnostic, Diagnostics, Failure, NestedBlock, Nesting,
    PlanRequest, Private, Resource, Schema, Type, Validator,
};
use crate::rules::{self, database_name};
use async_trait::async_trait;
use aws_sdk_glue::types::{
    Column as GlueColumn, SchemaId, SerDeInfo, StorageDescriptor, TableInput,
};
use aws_sdk_lakeformation::types::{
    Resource as LfResource, TableResource, TableWithColumnsResource,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;

// Table parameters where the product keeps what read and import need.
const P_DOMAIN: &str = "mesh:domain";
const P_TEAM: &str = "mesh:owner_team";
const P_EMAIL: &str = "mesh:owner_email";
const P_FRESHNESS: &str = "mesh:freshness_minutes";
const P_REGISTRY: &str = "mesh:schema_registry";
const P_SCHEMA_ARN: &str = "mesh:schema_arn";
const P_SCHEMA_VERSION: &str = "mesh:schema_version";
const P_DATA_FORMAT: &str = "mesh:schema_data_format";
const P_CONTRACT: &str = "mesh:contract_uri";
const P_RULES: &str = "mesh:quality_rules";
// Column parameter: Glue has no nullability of its own.
const C_NULLABLE: &str = "mesh:nullable";

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

/// `sla { freshness_minutes }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    /// Largest age of the newest data.
    pub freshness_minutes: Attr<i64>,
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
}

/// A model's content, parsed once and known: what every operation works from.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    domain: String,
    name: String,
    description: Option<String>,
    owner: Option<(String, String)>,
    format: Format,
    columns: Vec<Column>,
    column_tags: Vec<BTreeMap<String, String>>,
    partition_keys: Vec<Column>,
    table_tags: BTreeMap<String, String>,
    registry: String,
    compatibility: Compatibility,
    data_format: DataFormat,
    rules: Vec<String>,
    freshness: Option<i64>,
    force_destroy: bool,
}

fn parse_type(ty: &str) -> Result<GlueType, Diagnostics> {
    glue_type::parse(ty).map_err(|e| {
        Diagnostic::provider_bug(format!(
            "type {ty:?} passed validation but does not parse: {e}"
        ))
        .into()
    })
}

impl Spec {
    fn from(m: &Model) -> Result<Self, Diagnostics> {
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
                nullable: c.nullable.known().copied().unwrap_or(true),
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
            format: Format::from_str(m.format.known().map(String::as_str).unwrap_or("parquet"))
                .map_err(|_| bug("format"))?,
            columns,
            column_tags,
            partition_keys,
            table_tags,
            registry: known(&contract.registry, "schema_contract.registry")?.clone(),
            compatibility: Compatibility::from_str(
                contract
                    .compatibility
                    .known()
                    .map(String::as_str)
                    .unwrap_or("BACKWARD"),
            )
            .map_err(|_| bug("compatibility"))?,
            data_format: DataFormat::from_str(
                contract
                    .data_format
                    .known()
                    .map(String::as_str)
                    .unwrap_or("AVRO"),
            )
            .map_err(|_| bug("data_format"))?,
            rules: m.quality_rules.known().cloned().unwrap_or_default(),
            freshness: m
                .sla
                .known()
                .and_then(|s| s.freshness_minutes.known().copied()),
            force_destroy: m.force_destroy.known().copied().unwrap_or(false),
            domain,
        })
    }

    fn database(&self) -> String {
        database_name(&self.domain)
    }

    fn schema_name(&self) -> String {
        format!("{}.{}", self.domain, self.name)
    }

    fn prefix(&self) -> String {
        format!("products/{}/", self.name)
    }

    fn metadata_key(&self) -> String {
        format!("{}_metadata/product.json", self.prefix())
    }

    fn definition(&self) -> String {
        reg::definition(
            self.data_format,
            &self.name,
            &format!("mesh.{}", self.domain),
            &self.columns,
        )
    }

    /// Everything that shapes the registered schema.
    fn same_schema(&self, other: &Spec) -> bool {
        self.columns == other.columns && self.data_format == other.data_format
    }
}

/// Where a product lives, learned from its domain.
#[derive(Debug, Clone)]
struct Home {
    bucket: String,
    region: String,
    catalog_id: String,
    owner: (String, String),
}

/// The registry schema as created or found.
#[derive(Debug, Clone)]
struct Registered {
    arn: String,
    version: i64,
}

fn table_resource(catalog_id: &str, database: &str, name: &str) -> Result<LfResource, Diagnostics> {
    let t = TableResource::builder()
        .catalog_id(catalog_id)
        .database_name(database)
        .name(name)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().table(t).build())
}

fn columns_resource(
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

fn glue_column(c: &Column) -> Result<GlueColumn, Diagnostics> {
    GlueColumn::builder()
        .name(&c.name)
        .r#type(c.ty.to_string())
        .set_comment(c.comment.clone())
        .parameters(C_NULLABLE, c.nullable.to_string())
        .build()
        .map_err(|e| Diagnostic::provider_bug(e).into())
}

impl DataProduct {
    fn contract(&self, spec: &Spec, home: &Home, reg: &Registered) -> Contract {
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
        }
    }

    /// The contract document `model` publishes, when its values are all known: what S3 must
    /// hold. `owner` is the effective owner the table records (the domain's by default).
    fn expected_contract(
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

    fn table_input(
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

    async fn home(&self, client: &Clients, domain: &str) -> Result<Home, Diagnostics> {
        let database = database_name(domain);
        let out = client
            .call(Service::Glue, "GetDatabase", || client.glue().get_database().name(&database).send())
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    Diagnostic::error(
                        "Domain not found",
                        format!("The domain {domain:?} has no database {database}; create its mesh_domain first."),
                    )
                    .at(AttributePath::attr("domain"))
                    .into()
                } else {
                    aws_diag(format!("Cannot read the database of domain {domain}"), &e)
                }
            })?;
        let db = out.database.ok_or_else(|| {
            Diagnostics::from(Diagnostic::provider_bug("GetDatabase answered no database"))
        })?;
        let params = db.parameters.unwrap_or_default();
        let bucket = params
            .get("mesh:bucket")
            .cloned()
            .or_else(|| {
                db.location_uri
                    .as_deref()
                    .and_then(|u| u.strip_prefix("s3://"))
                    .map(|b| b.trim_end_matches('/').to_string())
            })
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Domain has no bucket",
                    format!("The database {database} names no bucket; is it a mesh_domain's?"),
                ))
            })?;
        Ok(Home {
            bucket,
            region: client.region().to_string(),
            catalog_id: db.catalog_id.unwrap_or_default(),
            owner: (
                params.get("mesh:owner_team").cloned().unwrap_or_default(),
                params.get("mesh:owner_email").cloned().unwrap_or_default(),
            ),
        })
    }

    async fn ensure_registry(&self, client: &Clients, registry: &str) -> Result<(), Diagnostics> {
        match client
            .call(Service::Glue, "CreateRegistry", || {
                client
                    .glue()
                    .create_registry()
                    .registry_name(registry)
                    .description("Data product contracts (terraform-provider-mesh)")
                    .send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_already_exists() => Ok(()),
            Err(e) => Err(aws_diag(
                format!("Cannot create schema registry {registry}"),
                &e,
            )),
        }
    }

    async fn create_schema(
        &self,
        client: &Clients,
        spec: &Spec,
    ) -> Result<Registered, Diagnostics> {
        self.ensure_registry(client, &spec.registry).await?;
        let out = client
            .call(Service::Glue, "CreateSchema", || {
                client
                    .glue()
                    .create_schema()
                    .registry_id(
                        aws_sdk_glue::types::RegistryId::builder()
                            .registry_name(&spec.registry)
                            .build(),
                    )
                    .schema_name(spec.schema_name())
                    .data_format(aws_sdk_glue::types::DataFormat::from(
                        spec.data_format.as_str(),
                    ))
                    .compatibility(aws_sdk_glue::types::Compatibility::from(
                        spec.compatibility.as_str(),
                    ))
                    .schema_definition(spec.definition())
                    .send()
            })
            .await
            .map_err(|e| {
                aws_diag(
                    format!(
                        "Cannot create schema {} in registry {}",
                        spec.schema_name(),
                        spec.registry
                    ),
                    &e,
                )
            })?;
        Ok(Registered {
            arn: out.schema_arn.unwrap_or_default(),
            version: out.latest_schema_version.unwrap_or(1),
        })
    }

    fn schema_id(spec: &Spec) -> SchemaId {
        SchemaId::builder()
            .registry_name(&spec.registry)
            .schema_name(spec.schema_name())
            .build()
    }

    async fn register_version(&self, client: &Clients, spec: &Spec) -> Result<i64, Diagnostics> {
        let out = client
            .call(Service::Glue, "RegisterSchemaVersion", || {
                client
                    .glue()
                    .register_schema_version()
                    .schema_id(Self::schema_id(spec))
                    .schema_definition(spec.definition())
                    .send()
            })
            .await
            .map_err(|e| {
                aws_diag(
                    format!(
                        "Cannot register a new version of schema {}",
                        spec.schema_name()
                    ),
                    &e,
                )
            })?;
        let mut status = out.status;
        let id = out.schema_version_id.unwrap_or_default();
        // The registry checks compatibility asynchronously: wait, bounded, for its verdict.
        for attempt in 0..30u64 {
            if status != Some(aws_sdk_glue::types::SchemaVersionStatus::Pending) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1).min(5))).await;
            let v = client
                .call(Service::Glue, "GetSchemaVersion", || {
                    client
                        .glue()
                        .get_schema_version()
                        .schema_version_id(&id)
                        .send()
                })
                .await
                .map_err(|e| aws_diag("Cannot read the new schema version", &e))?;
            status = v.status;
        }
        match status {
            Some(aws_sdk_glue::types::SchemaVersionStatus::Failure) => Err(Diagnostic::error(
                "Schema version refused",
                format!(
                    "The registry refused the new version of {} under {}.",
                    spec.schema_name(),
                    spec.compatibility.as_str()
                ),
            )
            .into()),
            _ => Ok(out.version_number.unwrap_or_default()),
        }
    }

    async fn put_contract(
        &self,
        client: &Clients,
        spec: &Spec,
        home: &Home,
        reg: &Registered,
    ) -> Result<String, Diagnostics> {
        let body = self.contract(spec, home, reg).to_json();
        let sha = Contract::sha256_hex(&body);
        client
            .call(Service::S3, "PutObject", || {
                client
                    .s3()
                    .put_object()
                    .bucket(&home.bucket)
                    .key(spec.metadata_key())
                    .content_type("application/json")
                    .body(body.clone().into())
                    .send()
            })
            .await
            .map_err(|e| {
                aws_diag(
                    format!(
                        "Cannot write the contract document {}",
                        contract_uri(&home.bucket, spec)
                    ),
                    &e,
                )
            })?;
        Ok(sha)
    }

    /// Attaches the table's tags and each distinct column tag set (one call per set),
    /// concurrently.
    async fn tag_new(&self, client: &Clients, spec: &Spec, home: &Home) -> Result<(), Diagnostics> {
        let what = format!("table {}.{}", spec.database(), spec.name);
        let mut groups: BTreeMap<BTreeMap<String, String>, Vec<String>> = BTreeMap::new();
        for (c, tags) in spec.columns.iter().zip(&spec.column_tags) {
            if !tags.is_empty() {
                groups.entry(tags.clone()).or_default().push(c.name.clone());
            }
        }
        let mut jobs = vec![(
            table_resource(&home.catalog_id, &spec.database(), &spec.name)?,
            spec.table_tags.clone(),
            what.clone(),
        )];
        for (tags, names) in groups {
            let w = format!("columns {} of {what}", names.join(", "));
            jobs.push((
                columns_resource(&home.catalog_id, &spec.database(), &spec.name, names)?,
                tags,
                w,
            ));
        }
        let none = BTreeMap::new();
        let calls = jobs.iter().map(|(resource, tags, w)| {
            ontology::retag(client, resource, &home.catalog_id, &none, tags, w)
        });
        let mut diags = Diagnostics::new();
        for r in futures::future::join_all(calls).await {
            if let Err(d) = r {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }

    /// Undoes a create that failed part-way. Returns what could not be undone.
    async fn undo(
        &self,
        client: &Clients,
        spec: &Spec,
        home: Option<&Home>,
        schema: bool,
        table: bool,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if table {
            if let Err(d) = self.delete_table(client, spec).await {
                diags.extend(d);
            }
        }
        if schema {
            if let Err(d) = self.delete_schema(client, spec).await {
                diags.extend(d);
            }
        }
        if let Some(home) = home {
            if let Err(d) = storage::delete_prefix(
                client,
                &home.bucket,
                &format!("{}_metadata/", spec.prefix()),
            )
            .await
            {
                diags.extend(d);
            }
        }
        diags
    }

    async fn delete_table(&self, client: &Clients, spec: &Spec) -> Result<(), Diagnostics> {
        match client
            .call(Service::Glue, "DeleteTable", || {
                client
                    .glue()
                    .delete_table()
                    .database_name(spec.database())
                    .name(&spec.name)
                    .send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(aws_diag(
                format!("Cannot delete table {}.{}", spec.database(), spec.name),
                &e,
            )),
        }
    }

    async fn delete_schema(&self, client: &Clients, spec: &Spec) -> Result<(), Diagnostics> {
        match client
            .call(Service::Glue, "DeleteSchema", || {
                client
                    .glue()
                    .delete_schema()
                    .schema_id(Self::schema_id(spec))
                    .send()
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(aws_diag(
                format!("Cannot delete schema {}", spec.schema_name()),
                &e,
            )),
        }
    }

    fn state(
        &self,
        spec: &Spec,
        home: &Home,
        reg: &Registered,
        sha: String,
        planned: &Model,
    ) -> Model {
        Model {
            id: Attr::Known(format!("{}/{}", spec.domain, spec.name)),
            database_name: Attr::Known(spec.database()),
            table_arn: Attr::Known(table_arn(home, spec)),
            location: Attr::Known(location(&home.bucket, spec)),
            schema_arn: Attr::Known(reg.arn.clone()),
            schema_version_number: Attr::Known(reg.version),
            contract_uri: Attr::Known(contract_uri(&home.bucket, spec)),
            contract_sha256: Attr::Known(sha),
            ..planned.clone()
        }
    }

    fn tag_uses(m: &Model) -> Vec<TagUse> {
        let mut uses = Vec::new();
        if let Attr::Known(d) = &m.domain {
            uses.push(TagUse {
                path: AttributePath::attr("domain"),
                key: DOMAIN_TAG.into(),
                value: d.clone(),
            });
        }
        if let Attr::Known(tags) = &m.lf_tags {
            for (k, v) in tags {
                uses.push(TagUse {
                    path: AttributePath::attr("lf_tags").then_key(k.clone()),
                    key: k.clone(),
                    value: v.clone(),
                });
            }
        }
        for (i, c) in m.column.known().into_iter().flatten().enumerate() {
            if let Attr::Known(tags) = &c.lf_tags {
                for (k, v) in tags {
                    let path = AttributePath::attr("column")
                        .then_index(i)
                        .then_attr("lf_tags")
                        .then_key(k.clone());
                    uses.push(TagUse {
                        path,
                        key: k.clone(),
                        value: v.clone(),
                    });
                }
            }
        }
        uses
    }
}

fn location(bucket: &str, spec: &Spec) -> String {
    format!("s3://{bucket}/{}", spec.prefix())
}

fn contract_uri(bucket: &str, spec: &Spec) -> String {
    format!("s3://{bucket}/{}", spec.metadata_key())
}

fn table_arn(home: &Home, spec: &Spec) -> String {
    format!(
        "arn:aws:glue:{}:{}:table/{}/{}",
        home.region,
        home.catalog_id,
        spec.database(),
        spec.name
    )
}

/// Private-state flags read leaves for the plan: drift in things that have no attribute.
const DRIFT_CONTRACT: &str = "contract_drift";
const DRIFT_SCHEMA: &str = "schema_missing";
/// Set by the plan when it could not confirm every LF-tag against the ontology.
const UNVERIFIED_TAGS: &str = "unverified_tags";

fn check_product_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!ok).then(|| format!("{name:?} is not a product name: use 1 to 128 lowercase letters, digits and underscores, starting with a letter (it names the Glue table)."))
}

fn check_registry_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_$#.".contains(c));
    (!ok)
        .then(|| format!("{name:?} is not a registry name: 1 to 255 letters, digits and - _ $ # ."))
}

fn type_validator() -> Validator {
    Validator::string("Glue column type", "Invalid column type", |s| {
        glue_type::parse(s)
            .err()
            .map(|e| format!("{s:?} is not a Glue column type: {e}."))
    })
}

#[async_trait]
impl Resource for DataProduct {
    type Model = Model;
    type Client = Clients;

    fn type_name(&self) -> &'static str {
        "mesh_data_product"
    }

    fn schema(&self) -> Schema {
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
                Block::new("Service levels.").attribute(
                    Attribute::number("freshness_minutes").required().describe("Largest acceptable age of the newest data, in minutes.").validate(Validator::new(format!("1 to {}", rules::MAX_FRESHNESS_MINUTES), |v, path, diags| {
                        if !matches!(v, Value::Number(n) if n.as_i64().is_some_and(|n| (1..=rules::MAX_FRESHNESS_MINUTES).contains(&n))) {
                            diags.error_at(path.clone(), "Invalid freshness", format!("`freshness_minutes` must be a whole number of minutes from 1 to {} (one year).", rules::MAX_FRESHNESS_MINUTES));
                        }
                    })),
                ),
            )),
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
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

    async fn modify_plan(&self, client: Option<&Clients>, req: &mut PlanRequest<Model>) {
        let Ok(after) = Spec::from(&req.planned) else {
            // Values known only at apply: the tags are checked then.
            req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
            return;
        };
        let prior = req.prior.as_ref().and_then(|p| Spec::from(p).ok());
        let tags_changed = prior
            .as_ref()
            .is_none_or(|p| p.table_tags != after.table_tags || p.column_tags != after.column_tags);
        if let (Some(client), true) = (client, tags_changed) {
            let loaded = match ontology::tag_catalog(client).await {
                Ok(catalog) => Ontology::load(client).await.map(|o| (o, catalog)),
                Err(e) => Err(e),
            };
            match loaded {
                Ok((o, catalog)) => {
                    let uses = Self::tag_uses(&req.config);
                    // A key missing now may be created by this apply: apply checks again then.
                    if !o.check(&uses, false).is_empty() {
                        req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
                    }
                    req.diags
                        .extend(o.with_planned(&catalog).check(&uses, false));
                }
                Err(e) => req.diags.extend(aws_diag(
                    "Cannot list LF-tags to check the product's tags",
                    &e,
                )),
            }
        } else if tags_changed {
            req.private.0.insert(UNVERIFIED_TAGS.into(), true.into());
        }
        let (Some(prior_model), Some(before)) = (req.prior.clone(), prior) else {
            return;
        };
        let contract_at = AttributePath::attr("schema_contract");
        if before.data_format != after.data_format {
            req.diags.error_at(contract_at.then_attr("data_format"), "Data format cannot change", format!(
                "The registry schema {} is {}; a schema's data format cannot change. Replace the product (terraform apply -replace=...) to start a new contract.",
                after.schema_name(), before.data_format.as_str()));
        }
        if before.registry != after.registry {
            req.diags.error_at(contract_at.then_attr("registry"), "Registry cannot change", format!(
                "The contract lives in registry {:?}; moving it would lose its version history. Replace the product (terraform apply -replace=...) to start it in {:?}.",
                before.registry, after.registry));
        }
        if !before.same_schema(&after) {
            let history = if after.compatibility.checks_all_versions() {
                match client {
                    Some(client) => match self.history(client, &before).await {
                        Ok(h) => h,
                        Err(d) => {
                            req.diags.extend(d);
                            return;
                        }
                    },
                    None => vec![before.columns.clone()],
                }
            } else {
                vec![before.columns.clone()]
            };
            for problem in reg::check_compatibility(after.compatibility, &history, &after.columns) {
                let index = after
                    .columns
                    .iter()
                    .position(|c| c.name == problem.column.split('.').next().unwrap_or_default());
                let path = match index {
                    Some(i) => AttributePath::attr("column").then_index(i),
                    None => AttributePath::attr("column"),
                };
                req.diags
                    .error_at(path, "Incompatible schema change", problem.message);
            }
        } else if !req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        let content_same = Spec {
            force_destroy: false,
            ..before.clone()
        } == Spec {
            force_destroy: false,
            ..after.clone()
        };
        if content_same && !req.private.0.contains_key(DRIFT_CONTRACT) {
            req.planned.contract_sha256 = prior_model.contract_sha256.clone();
        }
        if content_same && !req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = prior_model.schema_version_number;
        }
        if req.private.0.contains_key(DRIFT_CONTRACT) || req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.contract_sha256 = Attr::Unknown;
        }
        if req.private.0.contains_key(DRIFT_SCHEMA) {
            req.planned.schema_version_number = Attr::Unknown;
        }
    }

    async fn create(
        &self,
        client: &Clients,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let spec = Spec::from(&planned).map_err(Failure::clean)?;
        let verify = private.0.remove(UNVERIFIED_TAGS).is_some();
        let checks = async {
            // The plan verified the tags unless it said otherwise; some implementations accept
            // undefined keys, so what the plan could not verify is checked now.
            if verify {
                let ontology = Ontology::load(client)
                    .await
                    .map_err(|e| aws_diag("Cannot list LF-tags", &e))?;
                let problems = ontology.check(&Self::tag_uses(&planned), true);
                if problems.has_errors() {
                    return Err(problems);
                }
            }
            self.home(client, &spec.domain).await
        };
        let (home, schema) = futures::join!(checks, self.adopt_or_create_schema(client, &spec));
        let (reg, schema_created) = match schema {
            Ok(s) => s,
            Err(d) => {
                let mut diags = d;
                if let Err(more) = home {
                    diags.extend(more);
                }
                return Err(Failure::clean(diags));
            }
        };
        let home = match home {
            Ok(h) => h,
            Err(diags) => {
                return Err(self
                    .fail(client, &spec, None, schema_created, false, diags, &planned)
                    .await)
            }
        };
        let input = match self.table_input(&spec, &home, &reg) {
            Ok(i) => i,
            Err(diags) => {
                return Err(self
                    .fail(
                        client,
                        &spec,
                        Some(&home),
                        schema_created,
                        false,
                        diags,
                        &planned,
                    )
                    .await)
            }
        };
        let created = client
            .call(Service::Glue, "CreateTable", || {
                client
                    .glue()
                    .create_table()
                    .database_name(spec.database())
                    .table_input(input.clone())
                    .send()
            })
            .await;
        if let Err(e) = created {
            let diags = aws_diag(
                format!("Cannot create table {}.{}", spec.database(), spec.name),
                &e,
            );
            return Err(self
                .fail(
                    client,
                    &spec,
                    Some(&home),
                    schema_created,
                    false,
                    diags,
                    &planned,
                )
                .await);
        }
        let (tagged, contract) = futures::join!(
            self.tag_new(client, &spec, &home),
            self.put_contract(client, &spec, &home, &reg)
        );
        let sha = match (tagged, contract) {
            (Ok(()), Ok(sha)) => sha,
            (t, c) => {
                let mut diags = Diagnostics::new();
                for d in [t.err(), c.err()].into_iter().flatten() {
                    diags.extend(d);
                }
                return Err(self
                    .fail(
                        client,
                        &spec,
                        Some(&home),
                        schema_created,
                        true,
                        diags,
                        &planned,
                    )
                    .await);
            }
        };
        Ok(self.state(&spec, &home, &reg, sha, &planned))
    }

    async fn read(
        &self,
        client: &Clients,
        state: Model,
        private: &mut Private,
    ) -> Result<Option<Model>, Diagnostics> {
        let spec = Spec::from(&state)?;
        let catalog_id = state
            .table_arn
            .known()
            .and_then(|a| a.split(':').nth(4))
            .unwrap_or_default()
            .to_string();
        let bucket = state
            .location
            .known()
            .and_then(|l| l.strip_prefix("s3://"))
            .and_then(|l| l.split('/').next())
            .unwrap_or_default()
            .to_string();
        let table = client.call(Service::Glue, "GetTable", || {
            client
                .glue()
                .get_table()
                .database_name(spec.database())
                .name(&spec.name)
                .send()
        });
        let table_res = table_resource(&catalog_id, &spec.database(), &spec.name)?;
        let table_tags = client.call(Service::LakeFormation, "GetResourceLFTags", || {
            client
                .lakeformation()
                .get_resource_lf_tags()
                .catalog_id(&catalog_id)
                .resource(table_res.clone())
                .show_assigned_lf_tags(true)
                .send()
        });
        let names: Vec<String> = spec.columns.iter().map(|c| c.name.clone()).collect();
        let col_res = columns_resource(&catalog_id, &spec.database(), &spec.name, names)?;
        let column_tags = client.call(Service::LakeFormation, "GetResourceLFTags", || {
            client
                .lakeformation()
                .get_resource_lf_tags()
                .catalog_id(&catalog_id)
                .resource(col_res.clone())
                .show_assigned_lf_tags(true)
                .send()
        });
        let schema = client.call(Service::Glue, "GetSchema", || {
            client
                .glue()
                .get_schema()
                .schema_id(Self::schema_id(&spec))
                .send()
        });
        let object = async {
            let out = client
                .call(Service::S3, "GetObject", || {
                    client
                        .s3()
                        .get_object()
                        .bucket(&bucket)
                        .key(spec.metadata_key())
                        .send()
                })
                .await;
            match out {
                Ok(o) => o
                    .body
                    .collect()
                    .await
                    .map(|b| Some(b.into_bytes().to_vec()))
                    .map_err(|e| e.to_string()),
                Err(e) if e.is_not_found() => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        };
        let (table, table_tags, column_tags, schema, object) =
            futures::join!(table, table_tags, column_tags, schema, object);
        let table = match table {
            Ok(t) => t.table,
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot read table {}.{}", spec.database(), spec.name),
                    &e,
                ))
            }
        };
        let Some(table) = table else { return Ok(None) };
        private.0.remove(DRIFT_CONTRACT);
        private.0.remove(DRIFT_SCHEMA);

        let mut model = state.clone();
        let params = table.parameters.clone().unwrap_or_default();
        let sd = table.storage_descriptor.clone();
        let to_column = |c: &GlueColumn| {
            (
                c.name.clone(),
                c.r#type.clone().unwrap_or_default(),
                c.comment.clone(),
                c.parameters
                    .as_ref()
                    .and_then(|p| p.get(C_NULLABLE))
                    .is_none_or(|v| v != "false"),
            )
        };
        let found_columns: Vec<_> = sd
            .as_ref()
            .and_then(|s| s.columns.clone())
            .unwrap_or_default()
            .iter()
            .map(to_column)
            .collect();
        let column_tag_map: BTreeMap<String, BTreeMap<String, String>> = match column_tags {
            Ok(out) => out
                .lf_tags_on_columns
                .unwrap_or_default()
                .into_iter()
                .map(|c| {
                    (
                        c.name.unwrap_or_default(),
                        ontology::to_map(c.lf_tags.unwrap_or_default()),
                    )
                })
                .collect(),
            Err(e) => {
                return Err(aws_diag(
                    format!(
                        "Cannot read column LF-tags of {}.{}",
                        spec.database(),
                        spec.name
                    ),
                    &e,
                ))
            }
        };
        let prior_columns: BTreeMap<String, ColumnBlock> = state
            .column
            .known()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c.name.known()?.clone(), c.clone())))
            .collect();
        model.column = Attr::Known(
            found_columns
                .into_iter()
                .map(|(name, ty, comment, nullable)| {
                    let tags = column_tag_map.get(&name).cloned().unwrap_or_default();
                    let prior_tags = prior_columns
                        .get(&name)
                        .map(|c| c.lf_tags.clone())
                        .unwrap_or_default();
                    // Spelling the user wrote survives when Glue stores the same type canonically.
                    let prior_ty = prior_columns.get(&name).and_then(|c| c.ty.known().cloned());
                    let ty = match prior_ty {
                        Some(p)
                            if glue_type::parse(&p).ok().map(|t| t.to_string())
                                == glue_type::parse(&ty).ok().map(|t| t.to_string()) =>
                        {
                            p
                        }
                        _ => ty,
                    };
                    ColumnBlock {
                        name: Attr::Known(name),
                        ty: Attr::Known(ty),
                        comment: comment.into(),
                        nullable: Attr::Known(nullable),
                        lf_tags: if tags.is_empty() && prior_tags.is_null() {
                            Attr::Null
                        } else {
                            Attr::Known(tags)
                        },
                    }
                })
                .collect(),
        );
        let prior_keys: BTreeMap<String, String> = state
            .partition_key
            .known()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.name.known()?.clone(), p.ty.known()?.clone())))
            .collect();
        let keys: Vec<PartitionKey> = table
            .partition_keys
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let ty = c.r#type.clone().unwrap_or_default();
                let ty = match prior_keys.get(&c.name) {
                    Some(p)
                        if glue_type::parse(p).ok().map(|t| t.to_string())
                            == glue_type::parse(&ty).ok().map(|t| t.to_string()) =>
                    {
                        p.clone()
                    }
                    _ => ty,
                };
                PartitionKey {
                    name: Attr::Known(c.name.clone()),
                    ty: Attr::Known(ty),
                    comment: c.comment.clone().into(),
                }
            })
            .collect();
        // A list of blocks is never null in Terraform: no blocks is an empty list.
        model.partition_key = Attr::Known(keys);
        model.description = table.description.clone().filter(|d| !d.is_empty()).into();
        let serde_lib = sd
            .as_ref()
            .and_then(|s| s.serde_info.as_ref())
            .and_then(|s| s.serialization_library.clone());
        model.format = ["parquet", "orc", "json", "csv", "avro"]
            .iter()
            .filter_map(|f| Format::from_str(f).ok())
            .find(|f| Some(f.storage().serde_library.to_string()) == serde_lib)
            .map(|f| Attr::Known(f.as_str().to_string()))
            .unwrap_or(Attr::Known(serde_lib.unwrap_or_default()));
        if state.owner.is_known() {
            model.owner = Attr::Known(Owner {
                team: params.get(P_TEAM).cloned().into(),
                email: params.get(P_EMAIL).cloned().into(),
            });
        }
        model.sla = match params.get(P_FRESHNESS).and_then(|f| f.parse::<i64>().ok()) {
            Some(f) => Attr::Known(Sla {
                freshness_minutes: Attr::Known(f),
            }),
            None => Attr::Null,
        };
        let rules: Vec<String> = params
            .get(P_RULES)
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        model.quality_rules = if rules.is_empty() && state.quality_rules.is_null() {
            Attr::Null
        } else {
            Attr::Known(rules)
        };
        let table_tags = table_tags.map_err(|e| {
            aws_diag(
                format!("Cannot read LF-tags of {}.{}", spec.database(), spec.name),
                &e,
            )
        })?;
        model.lf_tags = ontology::shown_tags(
            ontology::to_map(table_tags.lf_tags_on_table.unwrap_or_default()),
            &spec.domain,
            &state.lf_tags,
        );
        match schema {
            Ok(s) => {
                let mut contract = state.schema_contract.known().cloned().unwrap_or_default();
                contract.compatibility = s.compatibility.map(|c| c.as_str().to_string()).into();
                contract.data_format = s.data_format.map(|c| c.as_str().to_string()).into();
                model.schema_contract = Attr::Known(contract);
                model.schema_arn = s.schema_arn.into();
                model.schema_version_number = s.latest_schema_version.into();
            }
            Err(e) if e.is_not_found() => {
                private.0.insert(DRIFT_SCHEMA.into(), true.into());
            }
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot read schema {}", spec.schema_name()),
                    &e,
                ))
            }
        }
        match object {
            Ok(Some(bytes)) => {
                // One source of truth: the document must be the one the product as read
                // publishes. A failed write after the table changed, an edit out of band or an
                // older document all differ, and the next apply rewrites it. (An import has no
                // hash to compare with, and needs none.)
                let owner = (
                    params.get(P_TEAM).cloned().unwrap_or_default(),
                    params.get(P_EMAIL).cloned().unwrap_or_default(),
                );
                let stale = !private.0.contains_key(DRIFT_SCHEMA)
                    && self.expected_contract(&model, owner)?.as_deref() != Some(&bytes[..]);
                if stale {
                    private.0.insert(DRIFT_CONTRACT.into(), true.into());
                }
                model.contract_sha256 = Attr::Known(Contract::sha256_hex(&bytes));
            }
            Ok(None) => {
                private.0.insert(DRIFT_CONTRACT.into(), true.into());
            }
            Err(e) => {
                return Err(Diagnostic::error(
                    format!("Cannot read the contract document of {}", spec.name),
                    e,
                )
                .into())
            }
        }
        Ok(Some(model))
    }

    async fn update(
        &self,
        client: &Clients,
        prior: Model,
        planned: Model,
        private: &mut Private,
    ) -> Result<Model, Failure<Model>> {
        let before = Spec::from(&prior).map_err(Failure::clean)?;
        let after = Spec::from(&planned).map_err(Failure::clean)?;
        let keep = |d: Diagnostics| Failure::partial(prior.clone(), d);
        let home = self.home(client, &after.domain).await.map_err(keep)?;
        if private.0.remove(UNVERIFIED_TAGS).is_some() {
            let ontology = Ontology::load(client)
                .await
                .map_err(|e| keep(aws_diag("Cannot list LF-tags", &e)))?;
            let problems = ontology.check(&Self::tag_uses(&planned), true);
            if problems.has_errors() {
                return Err(keep(problems));
            }
        }
        let mut reg = Registered {
            arn: prior.schema_arn.known().cloned().unwrap_or_default(),
            version: prior.schema_version_number.known().copied().unwrap_or(1),
        };
        if private.0.contains_key(DRIFT_SCHEMA) {
            let (r, _) = self
                .adopt_or_create_schema(client, &after)
                .await
                .map_err(keep)?;
            reg = r;
        } else if !before.same_schema(&after) {
            reg.version = self.register_version(client, &after).await.map_err(keep)?;
        }
        if before.compatibility != after.compatibility {
            client
                .call(Service::Glue, "UpdateSchema", || {
                    client
                        .glue()
                        .update_schema()
                        .schema_id(Self::schema_id(&after))
                        .compatibility(aws_sdk_glue::types::Compatibility::from(
                            after.compatibility.as_str(),
                        ))
                        .send()
                })
                .await
                .map_err(|e| {
                    keep(aws_diag(
                        format!("Cannot change the compatibility of {}", after.schema_name()),
                        &e,
                    ))
                })?;
        }
        let input = self.table_input(&after, &home, &reg).map_err(keep)?;
        client
            .call(Service::Glue, "UpdateTable", || {
                client
                    .glue()
                    .update_table()
                    .database_name(after.database())
                    .table_input(input.clone())
                    .send()
            })
            .await
            .map_err(|e| {
                keep(aws_diag(
                    format!("Cannot update table {}.{}", after.database(), after.name),
                    &e,
                ))
            })?;
        // The prior state may show the domain tag absent: retag from what it says.
        let current = ontology::attached(&prior.lf_tags, &before.domain);
        let what = format!("table {}.{}", after.database(), after.name);
        let table =
            table_resource(&home.catalog_id, &after.database(), &after.name).map_err(keep)?;
        ontology::retag(
            client,
            &table,
            &home.catalog_id,
            &current,
            &after.table_tags,
            &what,
        )
        .await
        .map_err(keep)?;
        // Columns: one call per distinct (before, after) tag change.
        let prior_tags: BTreeMap<String, BTreeMap<String, String>> = prior
            .column
            .known()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                Some((
                    c.name.known()?.clone(),
                    c.lf_tags.known().cloned().unwrap_or_default(),
                ))
            })
            .collect();
        let mut groups: BTreeMap<
            (BTreeMap<String, String>, BTreeMap<String, String>),
            Vec<String>,
        > = BTreeMap::new();
        for (c, tags) in after.columns.iter().zip(&after.column_tags) {
            let was = prior_tags.get(&c.name).cloned().unwrap_or_default();
            if &was != tags {
                groups
                    .entry((was, tags.clone()))
                    .or_default()
                    .push(c.name.clone());
            }
        }
        for ((was, now), names) in groups {
            let res = columns_resource(
                &home.catalog_id,
                &after.database(),
                &after.name,
                names.clone(),
            )
            .map_err(keep)?;
            ontology::retag(
                client,
                &res,
                &home.catalog_id,
                &was,
                &now,
                &format!("columns {} of {what}", names.join(", ")),
            )
            .await
            .map_err(keep)?;
        }
        let sha = self
            .put_contract(client, &after, &home, &reg)
            .await
            .map_err(keep)?;
        private.0.remove(DRIFT_CONTRACT);
        private.0.remove(DRIFT_SCHEMA);
        Ok(self.state(&after, &home, &reg, sha, &planned))
    }

    async fn delete(
        &self,
        client: &Clients,
        state: Model,
        _private: &Private,
    ) -> Result<(), Diagnostics> {
        let spec = Spec::from(&state)?;
        let bucket = state
            .location
            .known()
            .and_then(|l| l.strip_prefix("s3://"))
            .and_then(|l| l.split('/').next())
            .map(str::to_string);
        let metadata = async {
            match &bucket {
                Some(b) => {
                    storage::delete_prefix(client, b, &format!("{}_metadata/", spec.prefix())).await
                }
                None => Ok(()),
            }
        };
        let (t, s, m) = futures::join!(
            self.delete_table(client, &spec),
            self.delete_schema(client, &spec),
            metadata
        );
        let mut diags = Diagnostics::new();
        for r in [t, s, m] {
            if let Err(d) = r {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        if let (true, Some(b)) = (spec.force_destroy, &bucket) {
            storage::delete_prefix(client, b, &spec.prefix()).await?;
        }
        Ok(())
    }

    async fn import(&self, client: &Clients, id: &str) -> Result<Model, Diagnostics> {
        let bad = |why: String| {
            Diagnostics::from(Diagnostic::error(
                "Invalid import id",
                format!("{why} Import a mesh_data_product as <domain>/<name>."),
            ))
        };
        let (domain, name) = id
            .split_once('/')
            .ok_or_else(|| bad(format!("{id:?} has no '/'.")))?;
        if let Some(p) = rules::check_domain_name(domain).or_else(|| check_product_name(name)) {
            return Err(bad(p));
        }
        let database = database_name(domain);
        let table = client
            .call(Service::Glue, "GetTable", || {
                client
                    .glue()
                    .get_table()
                    .database_name(&database)
                    .name(name)
                    .send()
            })
            .await
            .map_err(|e| {
                if e.is_not_found() {
                    Diagnostics::from(Diagnostic::error(
                        "Cannot import a missing product",
                        format!("No table {database}.{name} exists."),
                    ))
                } else {
                    aws_diag(format!("Cannot read table {database}.{name}"), &e)
                }
            })?
            .table
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::provider_bug("GetTable answered no table"))
            })?;
        let params = table.parameters.clone().unwrap_or_default();
        let registry = params.get(P_REGISTRY).cloned().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error("Not a data product", format!("The table {database}.{name} was not made by mesh_data_product (it has no {P_REGISTRY} parameter).")))
        })?;
        let domain_owner = self.home(client, domain).await.ok().map(|h| h.owner);
        let location = table
            .storage_descriptor
            .as_ref()
            .and_then(|s| s.location.clone())
            .unwrap_or_default();
        let columns = table
            .storage_descriptor
            .as_ref()
            .and_then(|s| s.columns.clone())
            .unwrap_or_default();
        // Read fills in the rest; these are what it needs to find everything.
        Ok(Model {
            id: Attr::Known(id.to_string()),
            domain: Attr::Known(domain.to_string()),
            name: Attr::Known(name.to_string()),
            column: Attr::Known(
                columns
                    .iter()
                    .map(|c| ColumnBlock {
                        name: Attr::Known(c.name.clone()),
                        ty: c.r#type.clone().into(),
                        ..ColumnBlock::default()
                    })
                    .collect(),
            ),
            schema_contract: Attr::Known(SchemaContract {
                registry: Attr::Known(registry),
                compatibility: Attr::Known("BACKWARD".into()),
                data_format: params
                    .get(P_DATA_FORMAT)
                    .cloned()
                    .unwrap_or_else(|| "AVRO".into())
                    .into(),
            }),
            format: Attr::Known("parquet".into()),
            force_destroy: Attr::Known(false),
            database_name: Attr::Known(database.clone()),
            table_arn: Attr::Known(format!(
                "arn:aws:glue:{}:{}:table/{database}/{name}",
                client.region(),
                table.catalog_id.clone().unwrap_or_default()
            )),
            location: Attr::Known(location.clone()),
            contract_uri: Attr::Known(format!("{location}_metadata/product.json")),
            owner: match (params.get(P_TEAM), params.get(P_EMAIL)) {
                // Only an owner set on the product itself: the domain's is the default.
                (Some(t), Some(e)) if Some((t.clone(), e.clone())) != domain_owner => {
                    Attr::Known(Owner {
                        team: Attr::Known(t.clone()),
                        email: Attr::Known(e.clone()),
                    })
                }
                _ => Attr::Null,
            },
            ..Model::default()
        })
    }
}

impl DataProduct {
    /// Creates the registry schema, or adopts one that exists already (a create that is
    /// completing an earlier one, or a table recreated after deletion). Says whether it created.
    async fn adopt_or_create_schema(
        &self,
        client: &Clients,
        spec: &Spec,
    ) -> Result<(Registered, bool), Diagnostics> {
        match self.create_schema(client, spec).await {
            Ok(r) => Ok((r, true)),
            Err(d) => {
                let exists = client
                    .call(Service::Glue, "GetSchema", || {
                        client
                            .glue()
                            .get_schema()
                            .schema_id(Self::schema_id(spec))
                            .send()
                    })
                    .await;
                match exists {
                    Ok(s) => {
                        let version = self.register_version(client, spec).await?;
                        Ok((
                            Registered {
                                arn: s.schema_arn.unwrap_or_default(),
                                version,
                            },
                            false,
                        ))
                    }
                    Err(_) => Err(d),
                }
            }
        }
    }

    /// Every registered version's columns, oldest first: GetSchema for the latest number, then
    /// each version by number (concurrently). Deleted versions are skipped.
    async fn history(
        &self,
        client: &Clients,
        spec: &Spec,
    ) -> Result<Vec<Vec<Column>>, Diagnostics> {
        let schema = client
            .call(Service::Glue, "GetSchema", || {
                client
                    .glue()
                    .get_schema()
                    .schema_id(Self::schema_id(spec))
                    .send()
            })
            .await;
        let latest = match schema {
            Ok(s) => s.latest_schema_version.unwrap_or(1),
            Err(e) if e.is_not_found() => return Ok(vec![spec.columns.clone()]),
            Err(e) => {
                return Err(aws_diag(
                    format!("Cannot read schema {}", spec.schema_name()),
                    &e,
                ))
            }
        };
        let fetches = (1..=latest).map(|n| {
            client.call(Service::Glue, "GetSchemaVersion", move || {
                client
                    .glue()
                    .get_schema_version()
                    .schema_id(Self::schema_id(spec))
                    .schema_version_number(
                        aws_sdk_glue::types::SchemaVersionNumber::builder()
                            .version_number(n)
                            .build(),
                    )
                    .send()
            })
        });
        let mut history = Vec::new();
        for v in futures::future::join_all(fetches).await {
            let v = match v {
                Ok(v) => v,
                Err(e) if e.is_not_found() => continue,
                Err(e) => {
                    return Err(aws_diag(
                        format!("Cannot read a version of {}", spec.schema_name()),
                        &e,
                    ))
                }
            };
            let def = v.schema_definition.unwrap_or_default();
            history.push(
                reg::columns_from_definition(spec.data_format, &def).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable schema version",
                        format!(
                            "A version of {} is not one this provider wrote: {e}",
                            spec.schema_name()
                        ),
                    ))
                })?,
            );
        }
        if history.is_empty() {
            history.push(spec.columns.clone());
        }
        Ok(history)
    }

    /// A create failed: undo what it did; if the undo fails too, save what exists.
    #[allow(clippy::too_many_arguments)]
    async fn fail(
        &self,
        client: &Clients,
        spec: &Spec,
        home: Option<&Home>,
        schema: bool,
        table: bool,
        mut diags: Diagnostics,
        planned: &Model,
    ) -> Failure<Model> {
        let left = self.undo(client, spec, home, schema, table).await;
        if left.is_empty() {
            return Failure::clean(diags);
        }
        diags.extend(left);
        Failure::partial(
            Model {
                id: Attr::Known(format!("{}/{}", spec.domain, spec.name)),
                database_name: Attr::Known(spec.database()),
                ..planned.clone()
            },
            diags,
        )
    }
}
