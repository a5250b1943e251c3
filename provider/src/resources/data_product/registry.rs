//! The schema contract in the Glue Schema Registry: the registry, the schema, its versions.

use super::*;
use crate::aws::Found as _;
use crate::resources::Action;

impl DataProduct {
    pub(super) async fn ensure_registry(
        &self,
        client: &Mesh,
        registry: &str,
    ) -> Result<(), Diagnostics> {
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
                Action::Create,
                format!("schema registry {registry}"),
                &e,
            )),
        }
    }

    pub(super) async fn create_schema(
        &self,
        client: &Mesh,
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
                    Action::Create,
                    format!(
                        "schema {} in registry {}",
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

    pub(super) fn schema_id(spec: &Spec) -> SchemaId {
        SchemaId::builder()
            .registry_name(&spec.registry)
            .schema_name(spec.schema_name())
            .build()
    }

    pub(super) async fn register_version(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<i64, Diagnostics> {
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
                    Action::Register,
                    format!("a new version of schema {}", spec.schema_name()),
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
                .map_err(|e| aws_diag(Action::Read, "the new schema version", &e))?;
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

    /// Creates the registry schema, or adopts one that exists already (a create that is
    /// completing an earlier one, or a table recreated after deletion). Says whether it created.
    pub(super) async fn adopt_or_create_schema(
        &self,
        client: &Mesh,
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
    pub(super) async fn history(
        &self,
        client: &Mesh,
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
            .await
            .found()
            .map_err(|e| aws_diag(Action::Read, format!("schema {}", spec.schema_name()), &e))?;
        // No schema yet: the declared columns are the whole history.
        let Some(schema) = schema else {
            return Ok(vec![spec.columns.clone()]);
        };
        let latest = schema.latest_schema_version.unwrap_or(1);
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
            // A version deleted from the registry is no longer history.
            let v = match v.found() {
                Ok(Some(v)) => v,
                Ok(None) => continue,
                Err(e) => {
                    return Err(aws_diag(
                        Action::Read,
                        format!("a version of {}", spec.schema_name()),
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

    pub(super) async fn delete_schema(
        &self,
        client: &Mesh,
        spec: &Spec,
    ) -> Result<(), Diagnostics> {
        client
            .call(Service::Glue, "DeleteSchema", || {
                client
                    .glue()
                    .delete_schema()
                    .schema_id(Self::schema_id(spec))
                    .send()
            })
            .await
            .or_gone()
            .map_err(|e| aws_diag(Action::Delete, format!("schema {}", spec.schema_name()), &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_named_after_domain_and_product_in_the_declared_registry() {
        let spec = Spec::from(&Model {
            domain: Attr::Known("commerce".into()),
            name: Attr::Known("orders".into()),
            description: Attr::Known("Orders".into()),
            format: Attr::Known("parquet".into()),
            column: Attr::Known(vec![ColumnBlock {
                name: Attr::Known("order_id".into()),
                ty: Attr::Known("bigint".into()),
                nullable: Attr::Known(false),
                ..ColumnBlock::default()
            }]),
            partition_key: Attr::Known(vec![]),
            schema_contract: Attr::Known(SchemaContract {
                registry: Attr::Known("contracts".into()),
                compatibility: Attr::Known("BACKWARD".into()),
                data_format: Attr::Known("AVRO".into()),
            }),
            quality_rules: Attr::Known(vec![]),
            sla: Attr::Known(Sla {
                freshness_minutes: Attr::Known(60),
                ..Sla::default()
            }),
            force_destroy: Attr::Known(false),
            ..Model::default()
        })
        .unwrap();
        let id = DataProduct::schema_id(&spec);
        assert_eq!(id.registry_name(), Some("contracts"));
        assert_eq!(id.schema_name(), Some("commerce.orders"));
    }
}
