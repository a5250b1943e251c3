//! Reading a product back: its domain's home, the product as AWS holds it, and import.

use super::*;

impl DataProduct {
    pub(super) async fn home(&self, client: &Clients, domain: &str) -> Result<Home, Diagnostics> {
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

    pub(super) async fn read_product(
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

    pub(super) async fn import_product(
        &self,
        client: &Clients,
        id: &str,
    ) -> Result<Model, Diagnostics> {
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
