//! Reading a product back: its domain's home, the product as AWS holds it ([`Found`]), and
//! import.

use super::*;
use crate::aws::Found as _;
use crate::resources::Action;

/// A product as AWS holds it.
#[derive(Debug, Clone)]
pub struct Found {
    /// The Glue table.
    pub(super) table: aws_sdk_glue::types::Table,
    /// LF-tags on the table.
    pub(super) table_tags: BTreeMap<String, String>,
    /// LF-tags on each column that has any.
    pub(super) column_tags: BTreeMap<String, BTreeMap<String, String>>,
    /// The registry schema; `None` when it is gone.
    pub(super) schema: Option<FoundSchema>,
    /// The contract document's bytes; `None` when it is gone.
    pub(super) document: Option<Vec<u8>>,
    /// The SLA alarms that exist, freshness first.
    pub(super) alarms: Vec<AlarmSpec>,
}

/// What the registry says of the product's schema.
#[derive(Debug, Clone, Default)]
pub struct FoundSchema {
    pub(super) arn: Option<String>,
    pub(super) latest_version: Option<i64>,
    pub(super) compatibility: Option<String>,
    pub(super) data_format: Option<String>,
}

impl DataProduct {
    pub(super) async fn home(&self, client: &Mesh, domain: &str) -> Result<Home, Diagnostics> {
        let database = database_name(domain);
        let db = crate::resources::find_database(client, &database)
            .await?
            .ok_or_else(|| {
                Diagnostics::from(
                    Diagnostic::error(
                        "Domain not found",
                        format!("The domain {domain:?} has no database {database}; create its mesh_domain first."),
                    )
                    .at(AttributePath::attr("domain")),
                )
            })?;
        home_of(&database, db, client.region())
    }

    /// The product as AWS holds it, everything read needs: the one place that decides whether
    /// the product exists (`None`: its table is gone). The table comes first (it says which
    /// columns, registry and bucket to look at), then the rest concurrently. A missing registry
    /// schema or contract document is not a missing product: [`Found`] says so and the plan
    /// repairs them.
    pub(super) async fn lookup(
        &self,
        client: &Mesh,
        id: &ProductId,
    ) -> Result<Option<Found>, Diagnostics> {
        let database = id.database();
        let what = format!("{database}.{}", id.name);
        // Products live in the caller's catalog, beside their domain's database.
        let (catalog_id, table) = futures::join!(
            client.account(),
            client.call(Service::Glue, "GetTable", || {
                client
                    .glue()
                    .get_table()
                    .database_name(&database)
                    .name(&id.name)
                    .send()
            })
        );
        let catalog_id = catalog_id?;
        let Some(table) = table
            .found()
            .map_err(|e| aws_diag(Action::Read, format!("table {what}"), &e))?
            .and_then(|out| out.table)
        else {
            return Ok(None);
        };
        let params = table.parameters.clone().unwrap_or_default();
        let storage = table.storage_descriptor.as_ref();
        let bucket = storage
            .and_then(|s| s.location.as_deref())
            .and_then(bucket_of);
        let names: Vec<String> = storage
            .and_then(|s| s.columns.as_ref())
            .into_iter()
            .flatten()
            .map(|c| c.name.clone())
            .collect();
        let table_res = table_resource(&catalog_id, &database, &id.name)?;
        let table_tags = client.call(Service::LakeFormation, "GetResourceLFTags", || {
            client
                .lakeformation()
                .get_resource_lf_tags()
                .catalog_id(&catalog_id)
                .resource(table_res.clone())
                .show_assigned_lf_tags(true)
                .send()
        });
        let column_tags = async {
            if names.is_empty() {
                return Ok(BTreeMap::new());
            }
            let col_res = columns_resource(&catalog_id, &database, &id.name, names.clone())?;
            let out = client
                .call(Service::LakeFormation, "GetResourceLFTags", || {
                    client
                        .lakeformation()
                        .get_resource_lf_tags()
                        .catalog_id(&catalog_id)
                        .resource(col_res.clone())
                        .show_assigned_lf_tags(true)
                        .send()
                })
                .await
                .map_err(|e| aws_diag(Action::Read, format!("column LF-tags of {what}"), &e))?;
            Ok::<_, Diagnostics>(
                out.lf_tags_on_columns
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| {
                        (
                            c.name.unwrap_or_default(),
                            ontology::to_map(c.lf_tags.unwrap_or_default()),
                        )
                    })
                    .collect(),
            )
        };
        let schema = async {
            // A table without its registry parameter has lost its contract: repaired by apply.
            let Some(registry) = params.get(P_REGISTRY) else {
                return Ok(None);
            };
            let schema_id = SchemaId::builder()
                .registry_name(registry)
                .schema_name(id.schema_name())
                .build();
            let out = client
                .call(Service::Glue, "GetSchema", || {
                    client
                        .glue()
                        .get_schema()
                        .schema_id(schema_id.clone())
                        .send()
                })
                .await
                .found()
                .map_err(|e| aws_diag(Action::Read, format!("schema {}", id.schema_name()), &e))?;
            Ok::<_, Diagnostics>(out.map(|s| FoundSchema {
                arn: s.schema_arn,
                latest_version: s.latest_schema_version,
                compatibility: s.compatibility.map(|c| c.as_str().to_string()),
                data_format: s.data_format.map(|c| c.as_str().to_string()),
            }))
        };
        let document = async {
            let Some(bucket) = &bucket else {
                return Ok(None);
            };
            let out = client
                .call(Service::S3, "GetObject", || {
                    client
                        .s3()
                        .get_object()
                        .bucket(bucket)
                        .key(id.metadata_key())
                        .send()
                })
                .await
                .found()
                .map_err(|e| {
                    aws_diag(Action::Read, format!("the contract document of {what}"), &e)
                })?;
            match out {
                None => Ok(None),
                Some(o) => o
                    .body
                    .collect()
                    .await
                    .map(|b| Some(b.into_bytes().to_vec()))
                    .map_err(|e| {
                        Diagnostics::from(Diagnostic::error(
                            format!("Cannot read the contract document of {what}"),
                            e.to_string(),
                        ))
                    }),
            }
        };
        let (table_tags, column_tags, schema, document, alarms) = futures::join!(
            table_tags,
            column_tags,
            schema,
            document,
            self.find_alarms(client, id)
        );
        let table_tags = table_tags
            .map_err(|e| aws_diag(Action::Read, format!("LF-tags of {what}"), &e))?
            .lf_tags_on_table
            .unwrap_or_default();
        Ok(Some(Found {
            table,
            table_tags: ontology::to_map(table_tags),
            column_tags: column_tags?,
            schema: schema?,
            document: document?,
            alarms: alarms?,
        }))
    }

    /// The identifying state of product `id`; read fills in the rest.
    pub(super) async fn import_product(
        &self,
        client: &Mesh,
        id: &ProductId,
    ) -> Result<Model, Diagnostics> {
        let (domain, name) = (id.domain.as_str(), id.name.as_str());
        let database = id.database();
        let Some(Found { table, .. }) = self.lookup(client, id).await? else {
            return Err(Diagnostic::error(
                "Cannot import a missing product",
                format!("No table {database}.{name} exists."),
            )
            .into());
        };
        let domain_owner = self.home(client, domain).await.ok().map(|h| h.owner);
        identity(id, &table, domain_owner, client.region())
    }
}

/// Where a domain's products live, from its database (pure).
pub(super) fn home_of(
    database: &str,
    db: aws_sdk_glue::types::Database,
    region: &str,
) -> Result<Home, Diagnostics> {
    let params = db.parameters.unwrap_or_default();
    let bucket = params
        .get(crate::rules::param::BUCKET)
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
        region: region.to_string(),
        catalog_id: db.catalog_id.unwrap_or_default(),
        owner: (
            params.get(P_TEAM).cloned().unwrap_or_default(),
            params.get(P_EMAIL).cloned().unwrap_or_default(),
        ),
    })
}

/// The identifying state of an imported product, from its table (pure): what read needs to
/// find everything, the rest left to read and the schema's defaults.
pub(super) fn identity(
    id: &ProductId,
    table: &aws_sdk_glue::types::Table,
    domain_owner: Option<(String, String)>,
    region: &str,
) -> Result<Model, Diagnostics> {
    let (domain, name) = (id.domain.as_str(), id.name.as_str());
    let database = id.database();
    let params = table.parameters.clone().unwrap_or_default();
    let registry = params.get(P_REGISTRY).cloned().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error("Not a data product", format!("The table {database}.{name} was not made by mesh_data_product (it has no {P_REGISTRY} parameter).")))
        })?;
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
        // Unset values take the schema's defaults; read fills in what AWS says.
        schema_contract: Attr::Known(SchemaContract {
            registry: Attr::Known(registry),
            data_format: params.get(P_DATA_FORMAT).cloned().into(),
            ..SchemaContract::default()
        }),
        database_name: Attr::Known(database.clone()),
        table_arn: Attr::Known(format!(
            "arn:aws:glue:{}:{}:table/{database}/{name}",
            region,
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_glue::types::{Database, Table};

    fn database(params: &[(&str, &str)], location: Option<&str>) -> Database {
        Database::builder()
            .name("commerce_products")
            .catalog_id("444455556666")
            .set_location_uri(location.map(str::to_string))
            .set_parameters(Some(
                params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .build()
            .unwrap()
    }

    #[test]
    fn home_comes_from_the_domains_parameters_else_its_location() {
        let db = database(
            &[
                (crate::rules::param::BUCKET, "mesh-commerce"),
                (P_TEAM, "commerce"),
                (P_EMAIL, "c@example.com"),
            ],
            Some("s3://elsewhere/"),
        );
        let home = home_of("commerce_products", db, "eu-west-1").unwrap();
        assert_eq!(home.bucket, "mesh-commerce", "the parameter wins");
        assert_eq!(home.catalog_id, "444455556666");
        assert_eq!(home.owner, ("commerce".into(), "c@example.com".into()));

        let by_location = database(&[], Some("s3://mesh-commerce/"));
        assert_eq!(
            home_of("commerce_products", by_location, "eu-west-1")
                .unwrap()
                .bucket,
            "mesh-commerce"
        );
        let neither = database(&[], None);
        let err = home_of("commerce_products", neither, "eu-west-1").unwrap_err();
        assert!(err.to_string().contains("names no bucket"), "{err}");
    }

    fn table(params: &[(&str, &str)]) -> Table {
        Table::builder()
            .name("orders")
            .catalog_id("444455556666")
            .set_parameters(Some(
                params
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .storage_descriptor(
                aws_sdk_glue::types::StorageDescriptor::builder()
                    .location("s3://mesh-commerce/products/orders/")
                    .columns(
                        aws_sdk_glue::types::Column::builder()
                            .name("order_id")
                            .r#type("bigint")
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn import_identity_names_what_read_needs_and_only_an_owner_of_the_products_own() {
        let id = ProductId::parse("commerce/orders").unwrap();
        let t = table(&[
            (P_REGISTRY, "contracts"),
            (P_TEAM, "commerce"),
            (P_EMAIL, "c@example.com"),
        ]);
        let domain_owner = Some(("commerce".to_string(), "c@example.com".to_string()));
        let m = identity(&id, &t, domain_owner, "eu-west-1").unwrap();
        assert_eq!(m.id, Attr::Known("commerce/orders".into()));
        assert_eq!(
            m.table_arn,
            Attr::Known(
                "arn:aws:glue:eu-west-1:444455556666:table/commerce_products/orders".into()
            )
        );
        assert_eq!(
            m.contract_uri,
            Attr::Known("s3://mesh-commerce/products/orders/_metadata/product.json".into())
        );
        assert_eq!(
            m.owner,
            Attr::Null,
            "the domain's owner is the default, not shown"
        );
        let columns = m.column.known().unwrap();
        assert_eq!(columns[0].name, Attr::Known("order_id".into()));

        let other_owner = Some(("platform".to_string(), "p@example.com".to_string()));
        let m = identity(&id, &t, other_owner, "eu-west-1").unwrap();
        assert!(m.owner.is_known(), "an owner of the product's own is shown");

        let not_ours = table(&[]);
        let err = identity(&id, &not_ours, None, "eu-west-1").unwrap_err();
        assert!(err.to_string().contains("Not a data product"), "{err}");
    }
}
