//! What create, update and delete do besides the registry: the contract document, LF-tags, the
//! table, and undoing a create that failed part-way.

use super::*;
use crate::aws::Found as _;
use crate::resources::Action;

impl DataProduct {
    pub(super) async fn put_contract(
        &self,
        client: &Mesh,
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
                    Action::Write,
                    format!("the contract document {}", contract_uri(&home.bucket, spec)),
                    &e,
                )
            })?;
        Ok(sha)
    }

    /// Attaches the table's tags and each distinct column tag set (one call per set),
    /// concurrently.
    pub(super) async fn tag_new(
        &self,
        client: &Mesh,
        spec: &Spec,
        home: &Home,
    ) -> Result<(), Diagnostics> {
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
    pub(super) async fn undo(
        &self,
        client: &Mesh,
        spec: &Spec,
        home: Option<&Home>,
        schema: bool,
        table: bool,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        if table {
            // The alarms go up beside the tags and the contract, once the table exists.
            let alarms: Vec<String> = super::alarms::names(&spec.id()).into();
            let (t, a) = futures::join!(
                self.delete_table(client, spec),
                self.delete_alarms(client, &alarms)
            );
            for r in [t, a] {
                if let Err(d) = r {
                    diags.extend(d);
                }
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

    pub(super) async fn delete_table(&self, client: &Mesh, spec: &Spec) -> Result<(), Diagnostics> {
        client
            .call(Service::Glue, "DeleteTable", || {
                client
                    .glue()
                    .delete_table()
                    .database_name(spec.database())
                    .name(&spec.name)
                    .send()
            })
            .await
            .or_gone()
            .map_err(|e| {
                aws_diag(
                    Action::Delete,
                    format!("table {}.{}", spec.database(), spec.name),
                    &e,
                )
            })
    }

    /// A create failed: undo what it did; if the undo fails too, save what exists.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fail(
        &self,
        client: &Mesh,
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
                id: Attr::Known(spec.id().to_string()),
                database_name: Attr::Known(spec.database()),
                ..planned.clone()
            },
            diags,
        )
    }
}

/// LF-tags: key to value.
type Tags = BTreeMap<String, String>;

/// Tags on columns, by column.
type ColumnTags = BTreeMap<String, Tags>;

/// Columns grouped by the same tag change: (tags before, tags after) to column names.
pub(super) type TagChanges = BTreeMap<(Tags, Tags), Vec<String>>;

/// The column tag changes from the `prior` state to `after`: each distinct (before, after) pair
/// of tag sets with the columns that make it, so each pair is one call (pure).
pub(super) fn column_tag_changes(prior: &Model, after: &Spec) -> TagChanges {
    let prior_tags: ColumnTags = prior
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
    let mut groups = TagChanges::new();
    for (c, tags) in after.columns.iter().zip(&after.column_tags) {
        let was = prior_tags.get(&c.name).cloned().unwrap_or_default();
        if &was != tags {
            groups
                .entry((was, tags.clone()))
                .or_default()
                .push(c.name.clone());
        }
    }
    groups
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn column(name: &str, tags: &[(&str, &str)]) -> ColumnBlock {
        ColumnBlock {
            name: Attr::Known(name.into()),
            ty: Attr::Known("string".into()),
            nullable: Attr::Known(true),
            lf_tags: Attr::Known(
                tags.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ColumnBlock::default()
        }
    }

    pub(crate) fn model(columns: Vec<ColumnBlock>) -> Model {
        Model {
            domain: Attr::Known("commerce".into()),
            name: Attr::Known("orders".into()),
            description: Attr::Known("Orders".into()),
            format: Attr::Known("parquet".into()),
            column: Attr::Known(columns),
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
        }
    }

    #[test]
    fn column_tag_changes_group_columns_by_the_same_change() {
        let pii = [("sensitivity", "pii")];
        let prior = model(vec![
            column("a", &[]),
            column("b", &[]),
            column("c", &pii),
            column("d", &pii),
        ]);
        let after = Spec::from(&model(vec![
            column("a", &pii),
            column("b", &pii),
            column("c", &[]),
            column("d", &pii),
            column("e", &[]),
        ]))
        .unwrap();
        let changes = column_tag_changes(&prior, &after);
        let tags = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            changes[&(tags(&[]), tags(&pii))],
            vec!["a".to_string(), "b".to_string()],
            "one call tags both"
        );
        assert_eq!(changes[&(tags(&pii), tags(&[]))], vec!["c".to_string()]);
        // d is unchanged and e is new without tags: nothing to do for either.
    }
}
