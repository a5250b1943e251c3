//! Reading a domain back: its id, [`Found`], the one lookup, and the pure flatten to state.

use super::*;
use crate::resources::Action;

/// A domain's id: its name, and the bucket a stored state names (found again that way when
/// the database lost its parameters).
#[derive(Debug, Clone, PartialEq)]
pub struct DomainId {
    pub(super) name: String,
    pub(super) bucket: Option<String>,
}

impl std::fmt::Display for DomainId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// A domain as AWS holds it.
pub struct Found {
    pub(super) spec: Spec,
    pub(super) catalog_id: String,
    pub(super) tags: BTreeMap<String, String>,
    pub(super) iam_allowed: bool,
}

impl Domain {
    /// The one lookup of a domain: see [`Resource::find`].
    pub(super) async fn lookup(
        &self,
        client: &Mesh,
        id: &DomainId,
    ) -> Result<Option<Found>, Diagnostics> {
        let (name, prior_bucket) = (id.name.as_str(), id.bucket.as_deref());
        let database = database_name(name);
        let Some(db) = crate::resources::find_database(client, &database).await? else {
            return Ok(None);
        };
        let params = db.parameters.clone().unwrap_or_default();
        let catalog_id = db.catalog_id.clone().unwrap_or_default();
        let Some(bucket) = params
            .get(P_BUCKET)
            .cloned()
            .or(prior_bucket.map(str::to_string))
        else {
            return Ok(None);
        };
        let spec = Spec {
            name: name.to_string(),
            description: db.description.clone().filter(|d| !d.is_empty()),
            team: params.get(P_TEAM).cloned().unwrap_or_default(),
            email: params.get(P_EMAIL).cloned().unwrap_or_default(),
            create_bucket: params.get(P_BUCKET_CREATED).is_none_or(|v| v == "true"),
            force_destroy: false,
            role: params.get(P_ROLE).cloned(),
            tags: BTreeMap::new(),
            lake_formation_only: true,
            bucket,
        };
        let resource = db_resource(&catalog_id, &database)?;
        let tags = client.call(Service::LakeFormation, "GetResourceLFTags", || {
            client
                .lakeformation()
                .get_resource_lf_tags()
                .catalog_id(&catalog_id)
                .resource(resource.clone())
                .send()
        });
        let registration = client.call(Service::LakeFormation, "DescribeResource", || {
            client
                .lakeformation()
                .describe_resource()
                .resource_arn(spec.bucket_arn())
                .send()
        });
        let bucket = client.call(Service::S3, "HeadBucket", || {
            client.s3().head_bucket().bucket(&spec.bucket).send()
        });
        // The database named without a catalog id: grants made without one are stored so by
        // some implementations, and it means the caller's catalog either way.
        let own_db = db_resource_in_own_catalog(&database)?;
        let grants = client.call(Service::LakeFormation, "ListPermissions", || {
            client
                .lakeformation()
                .list_permissions()
                .resource(own_db.clone())
                .principal(
                    DataLakePrincipal::builder()
                        .data_lake_principal_identifier(IAM_ALLOWED_PRINCIPALS)
                        .build(),
                )
                .send()
        });
        let (tags, registration, bucket, grants) =
            futures::join!(tags, registration, bucket, grants);
        let registration = registration.found().map_err(|e| {
            aws_diag(
                Action::Read,
                format!("the registration of s3://{}/", spec.bucket),
                &e,
            )
        })?;
        let bucket = bucket
            .found()
            .map_err(|e| aws_diag(Action::Read, format!("bucket {}", spec.bucket), &e))?;
        // The bucket or its registration gone: the domain is incomplete, plan to create it again
        // (create completes what is missing).
        if registration.is_none() || bucket.is_none() {
            return Ok(None);
        }
        let tags =
            tags.map_err(|e| aws_diag(Action::Read, format!("LF-tags of {database}"), &e))?;
        let grants =
            grants.map_err(|e| aws_diag(Action::List, format!("permissions on {database}"), &e))?;
        let default_grants = db.create_table_default_permissions.unwrap_or_default();
        let iam_allowed = !grants
            .principal_resource_permissions
            .unwrap_or_default()
            .is_empty()
            || default_grants.iter().any(|g| {
                g.principal
                    .as_ref()
                    .and_then(|p| p.data_lake_principal_identifier.as_deref())
                    == Some(IAM_ALLOWED_PRINCIPALS)
            });
        Ok(Some(Found {
            spec,
            catalog_id,
            tags: ontology::to_map(tags.lf_tag_on_database.unwrap_or_default()),
            iam_allowed,
        }))
    }
}

/// The state for what AWS holds; `prior` keeps what lives only in configuration.
pub(super) fn flatten(found: Found, prior: &Model) -> Model {
    let prior_lf_only = prior.lake_formation_only.known().copied().unwrap_or(true);
    let mut model = found.spec.state(&found.catalog_id, prior);
    model.lf_tags = ontology::shown_tags(found.tags, &found.spec.name, &prior.lf_tags);
    // Opted out (false): the grants are not this resource's business, so no drift either.
    model.lake_formation_only = Attr::Known(prior_lf_only && !found.iam_allowed);
    if let (Attr::Known(b), Attr::Known(prior)) = (&mut model.bucket, &prior.bucket) {
        b.force_destroy = prior.force_destroy;
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(iam_allowed: bool, tags: &[(&str, &str)]) -> Found {
        Found {
            spec: Spec {
                name: "sales".into(),
                description: None,
                team: "sales-data".into(),
                email: "data@sales.example".into(),
                bucket: "sales-lake".into(),
                create_bucket: true,
                force_destroy: false,
                role: None,
                tags: BTreeMap::new(),
                lake_formation_only: true,
            },
            catalog_id: "111122223333".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            iam_allowed,
        }
    }

    #[test]
    fn flatten_reads_back_the_domain_and_hides_its_own_domain_tag() {
        let state = flatten(found(false, &[("domain", "sales")]), &Model::default());
        assert_eq!(state.id, Attr::Known("sales".into()));
        assert_eq!(state.database_name, Attr::Known("sales_products".into()));
        assert_eq!(state.location, Attr::Known("s3://sales-lake/".into()));
        assert_eq!(state.catalog_id, Attr::Known("111122223333".into()));
        assert_eq!(
            state.lf_tags,
            Attr::Null,
            "the implicit domain tag is not shown"
        );
        assert_eq!(state.lake_formation_only, Attr::Known(true));
    }

    #[test]
    fn flatten_shows_iam_grants_as_drift_only_when_lake_formation_only_was_asked() {
        let asked = Model {
            lake_formation_only: Attr::Known(true),
            ..Model::default()
        };
        let opted_out = Model {
            lake_formation_only: Attr::Known(false),
            ..Model::default()
        };
        let with_iam = || found(true, &[("domain", "sales")]);
        assert_eq!(
            flatten(with_iam(), &asked).lake_formation_only,
            Attr::Known(false),
            "IAM_ALLOWED_PRINCIPALS grants found: drift"
        );
        assert_eq!(
            flatten(with_iam(), &opted_out).lake_formation_only,
            Attr::Known(false),
            "opted out: the grants are not this resource's business"
        );
    }

    #[test]
    fn flatten_keeps_configuration_only_settings_and_shows_a_missing_domain_tag() {
        let prior = Model {
            bucket: Attr::Known(Bucket {
                name: Attr::Known("sales-lake".into()),
                create: Attr::Known(true),
                force_destroy: Attr::Known(true),
            }),
            ..Model::default()
        };
        let state = flatten(found(false, &[]), &prior);
        let bucket = state.bucket.known().cloned().unwrap();
        assert_eq!(
            bucket.force_destroy,
            Attr::Known(true),
            "lives only in configuration"
        );
        let shown = state.lf_tags.known().cloned().unwrap();
        assert!(
            shown.contains_key("domain"),
            "the domain tag removed outside Terraform shows as drift: {shown:?}"
        );
    }
}
