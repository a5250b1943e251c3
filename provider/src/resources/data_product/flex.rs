//! From what AWS holds to the state: pure, so every rule of the read-back is unit-tested.
//!
//! The prior state decides only what AWS cannot tell: which optional attributes the user left
//! unset (an empty list and an unset one read back alike) and how the user spelled a type that
//! Glue stores canonically.

use super::find::Found;
use super::*;

/// The state `found` shows, starting from `prior` (identity and computed values that reading
/// does not change).
pub(super) fn flatten(found: &Found, prior: &Model) -> Model {
    let table = &found.table;
    let params = table.parameters.clone().unwrap_or_default();
    let sd = table.storage_descriptor.as_ref();
    let domain = prior.domain.known().cloned().unwrap_or_default();
    let mut model = prior.clone();

    let prior_columns: BTreeMap<&str, &ColumnBlock> = prior
        .column
        .known()
        .into_iter()
        .flatten()
        .filter_map(|c| Some((c.name.known()?.as_str(), c)))
        .collect();
    let columns = sd.and_then(|s| s.columns.as_deref()).unwrap_or_default();
    model.column = Attr::Known(
        columns
            .iter()
            .map(|c| {
                let prior = prior_columns.get(c.name.as_str());
                let tags = found.column_tags.get(&c.name).cloned().unwrap_or_default();
                let prior_tags_unset = prior.is_none_or(|p| p.lf_tags.is_null());
                ColumnBlock {
                    name: Attr::Known(c.name.clone()),
                    ty: Attr::Known(spelled(
                        prior.and_then(|p| p.ty.known()).map(String::as_str),
                        c.r#type.as_deref().unwrap_or_default(),
                    )),
                    comment: c.comment.clone().into(),
                    nullable: Attr::Known(
                        c.parameters
                            .as_ref()
                            .and_then(|p| p.get(C_NULLABLE))
                            .is_none_or(|v| v != "false"),
                    ),
                    lf_tags: if tags.is_empty() && prior_tags_unset {
                        Attr::Null
                    } else {
                        Attr::Known(tags)
                    },
                }
            })
            .collect(),
    );

    let prior_keys: BTreeMap<&str, &str> = prior
        .partition_key
        .known()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.name.known()?.as_str(), p.ty.known()?.as_str())))
        .collect();
    // A list of blocks is never null in Terraform: no blocks is an empty list.
    model.partition_key = Attr::Known(
        table
            .partition_keys
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|c| PartitionKey {
                name: Attr::Known(c.name.clone()),
                ty: Attr::Known(spelled(
                    prior_keys.get(c.name.as_str()).copied(),
                    c.r#type.as_deref().unwrap_or_default(),
                )),
                comment: c.comment.clone().into(),
            })
            .collect(),
    );

    model.description = table.description.clone().filter(|d| !d.is_empty()).into();
    let serde_lib = sd
        .and_then(|s| s.serde_info.as_ref())
        .and_then(|s| s.serialization_library.clone());
    model.format = Attr::Known(
        Format::ALL
            .into_iter()
            .find(|f| Some(f.storage().serde_library) == serde_lib.as_deref())
            .map(|f| f.as_str().to_string())
            .unwrap_or_else(|| serde_lib.unwrap_or_default()),
    );
    // Shown only when the user set one: the domain's owner is the default.
    if prior.owner.is_known() {
        model.owner = Attr::Known(Owner {
            team: params.get(P_TEAM).cloned().into(),
            email: params.get(P_EMAIL).cloned().into(),
        });
    }
    model.sla = match params.get(P_FRESHNESS).and_then(|f| f.parse::<i64>().ok()) {
        Some(f) => Attr::Known(sla(f, &found.alarms, prior)),
        None => Attr::Null,
    };
    model.alarm_names = Attr::Known(found.alarms.iter().map(|a| a.name.clone()).collect());
    let rules: Vec<String> = params
        .get(P_RULES)
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    model.quality_rules = if rules.is_empty() && prior.quality_rules.is_null() {
        Attr::Null
    } else {
        Attr::Known(rules)
    };
    model.lf_tags = ontology::shown_tags(found.table_tags.clone(), &domain, &prior.lf_tags);
    if let Some(schema) = &found.schema {
        let mut contract = prior.schema_contract.known().cloned().unwrap_or_default();
        contract.compatibility = schema.compatibility.clone().into();
        contract.data_format = schema.data_format.clone().into();
        model.schema_contract = Attr::Known(contract);
        model.schema_arn = schema.arn.clone().into();
        model.schema_version_number = schema.latest_version.into();
    }
    model
}

/// The type as the user spelled it when Glue's canonical form is the same type (`DECIMAL(10,2)`
/// and `decimal(10,2)`), else Glue's.
fn spelled(prior: Option<&str>, stored: &str) -> String {
    let canonical = |t: &str| glue_type::parse(t).ok().map(|t| t.to_string());
    match prior {
        Some(p) if canonical(p).is_some() && canonical(p) == canonical(stored) => p.to_string(),
        _ => stored.to_string(),
    }
}

/// The SLA as AWS holds it: the freshness bound from the table, the quality threshold and the
/// actions from the alarms (so an alarm changed outside Terraform shows as drift of `sla`).
fn sla(freshness: i64, alarms: &[AlarmSpec], prior: &Model) -> Sla {
    let metric = |m: &str| alarms.iter().find(|a| a.metric == m);
    let prior_sla = prior.sla.known().cloned().unwrap_or_default();
    // Actions: an empty set the configuration left unset stays unset.
    let actions = |found: Option<&BTreeSet<String>>, prior: &Attr<BTreeSet<String>>| match found {
        Some(set) if set.is_empty() && !prior.is_known() => Attr::Null,
        Some(set) => Attr::Known(set.clone()),
        // No freshness alarm: alarm_names shows it missing; keep what was declared.
        None => prior.clone(),
    };
    let freshness_alarm = metric(crate::rules::metrics::FRESHNESS);
    Sla {
        freshness_minutes: Attr::Known(freshness),
        min_quality_score: match metric(crate::rules::metrics::QUALITY) {
            Some(q) => Attr::Known(q.threshold),
            None => Attr::Null,
        },
        alarm_actions: actions(
            freshness_alarm.map(|a| &a.alarm_actions),
            &prior_sla.alarm_actions,
        ),
        ok_actions: actions(
            freshness_alarm.map(|a| &a.ok_actions),
            &prior_sla.ok_actions,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::find::FoundSchema;
    use super::*;
    use aws_sdk_glue::types::{Column as GlueColumn, SerDeInfo, StorageDescriptor, Table};

    fn column(name: &str, ty: &str, nullable: Option<&str>) -> GlueColumn {
        let mut c = GlueColumn::builder().name(name).r#type(ty);
        if let Some(n) = nullable {
            c = c.parameters(C_NULLABLE, n);
        }
        c.build().unwrap()
    }

    fn found() -> Found {
        let sd = StorageDescriptor::builder()
            .location("s3://bucket/products/orders/")
            .columns(column("order_id", "decimal(10,2)", Some("false")))
            .columns(column("note", "string", None))
            .serde_info(
                SerDeInfo::builder()
                    .serialization_library(Format::Parquet.storage().serde_library)
                    .build(),
            )
            .build();
        let table = Table::builder()
            .name("orders")
            .description("Orders")
            .storage_descriptor(sd)
            .partition_keys(column("day", "date", None))
            .parameters(P_TEAM, "sales")
            .parameters(P_EMAIL, "sales@example.com")
            .parameters(P_FRESHNESS, "60")
            .parameters(P_RULES, r#"["IsComplete \"order_id\""]"#)
            .build()
            .unwrap();
        Found {
            table,
            table_tags: [("domain", "commerce"), ("sensitivity", "internal")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            column_tags: [(
                "note".to_string(),
                [("sensitivity".to_string(), "public".to_string())].into(),
            )]
            .into(),
            schema: Some(FoundSchema {
                arn: Some("arn:aws:glue:us-east-1:111111111111:schema/r/commerce.orders".into()),
                latest_version: Some(3),
                compatibility: Some("BACKWARD".into()),
                data_format: Some("AVRO".into()),
            }),
            document: None,
            alarms: vec![],
        }
    }

    fn prior() -> Model {
        Model {
            domain: Attr::Known("commerce".into()),
            name: Attr::Known("orders".into()),
            column: Attr::Known(vec![ColumnBlock {
                name: Attr::Known("order_id".into()),
                ty: Attr::Known("DECIMAL(10,2)".into()),
                ..ColumnBlock::default()
            }]),
            schema_contract: Attr::Known(SchemaContract {
                registry: Attr::Known("r".into()),
                ..SchemaContract::default()
            }),
            ..Model::default()
        }
    }

    #[test]
    fn reads_back_what_aws_holds() {
        let m = flatten(&found(), &prior());
        let columns = m.column.known().unwrap();
        assert_eq!(columns.len(), 2);
        // The user's spelling of the same type survives; nullability comes from the column.
        assert_eq!(columns[0].ty, Attr::Known("DECIMAL(10,2)".into()));
        assert_eq!(columns[0].nullable, Attr::Known(false));
        assert_eq!(columns[1].nullable, Attr::Known(true));
        assert_eq!(
            columns[1].lf_tags,
            Attr::Known([("sensitivity".to_string(), "public".to_string())].into())
        );
        assert_eq!(columns[0].lf_tags, Attr::Null, "no tags and none declared");
        let keys = m.partition_key.known().unwrap();
        assert_eq!(keys[0].ty, Attr::Known("date".into()));
        assert_eq!(m.format, Attr::Known("parquet".into()));
        assert_eq!(m.description, Attr::Known("Orders".into()));
        assert_eq!(
            m.sla.known().map(|s| s.freshness_minutes),
            Some(Attr::Known(60))
        );
        assert_eq!(
            m.quality_rules,
            Attr::Known(vec!["IsComplete \"order_id\"".to_string()])
        );
        assert_eq!(m.schema_version_number, Attr::Known(3));
        let contract = m.schema_contract.known().unwrap();
        assert_eq!(contract.registry, Attr::Known("r".into()));
        assert_eq!(contract.compatibility, Attr::Known("BACKWARD".into()));
    }

    #[test]
    fn the_default_owner_and_the_implicit_domain_tag_stay_unshown() {
        let m = flatten(&found(), &prior());
        assert_eq!(m.owner, Attr::Null, "the domain's owner is the default");
        let tags = m.lf_tags.known().cloned().unwrap_or_default();
        assert!(!tags.contains_key("domain"), "{tags:?}");
        assert_eq!(
            tags.get("sensitivity").map(String::as_str),
            Some("internal")
        );

        let with_owner = Model {
            owner: Attr::Known(Owner::default()),
            ..prior()
        };
        let m = flatten(&found(), &with_owner);
        assert_eq!(
            m.owner.known().map(|o| o.team.clone()),
            Some(Attr::Known("sales".into()))
        );
    }

    #[test]
    fn a_missing_schema_keeps_the_prior_contract_values() {
        let mut f = found();
        f.schema = None;
        let p = Model {
            schema_version_number: Attr::Known(2),
            ..prior()
        };
        let m = flatten(&f, &p);
        assert_eq!(m.schema_version_number, Attr::Known(2));
    }

    #[test]
    fn the_sla_reads_its_quality_threshold_and_actions_from_the_alarms() {
        let mut f = found();
        f.table.parameters = Some(
            f.table
                .parameters
                .clone()
                .unwrap_or_default()
                .into_iter()
                .chain([(P_FRESHNESS.to_string(), "60".to_string())])
                .collect(),
        );
        let id = ProductId::parse("commerce/orders").unwrap();
        let watch = Watch {
            min_quality: Some(0.8),
            alarm_actions: ["arn:aws:sns:eu-west-1:111122223333:mesh".to_string()].into(),
            ok_actions: BTreeSet::new(),
        };
        f.alarms = alarms::expected_for(&id, Some(60), &watch);
        let m = flatten(&f, &prior());
        let sla = m.sla.known().unwrap();
        assert_eq!(sla.freshness_minutes, Attr::Known(60));
        assert_eq!(sla.min_quality_score, Attr::Known(0.8));
        assert_eq!(sla.alarm_actions, Attr::Known(watch.alarm_actions.clone()));
        assert_eq!(
            sla.ok_actions,
            Attr::Null,
            "an empty set never configured stays unset"
        );
        assert_eq!(
            m.alarm_names,
            Attr::Known(vec![
                "commerce-orders-freshness".to_string(),
                "commerce-orders-quality".to_string()
            ])
        );
        // The quality alarm deleted outside Terraform: the threshold shows as gone (drift).
        f.alarms.truncate(1);
        let m = flatten(&f, &prior());
        assert_eq!(m.sla.known().unwrap().min_quality_score, Attr::Null);
    }
}
