//! What the user declared ([`Spec`]), the database input and parameters it becomes, and the rules of bucket names and addresses.

use super::*;

/// What the user declared: everything a domain's operations need, taken from a model once.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(super) name: String,
    pub(super) description: Option<String>,
    pub(super) team: String,
    pub(super) email: String,
    pub(super) bucket: String,
    pub(super) create_bucket: bool,
    pub(super) force_destroy: bool,
    pub(super) role: Option<String>,
    pub(super) tags: BTreeMap<String, String>,
    pub(super) lake_formation_only: bool,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        let owner = known(&m.owner, "owner")?;
        let bucket = known(&m.bucket, "bucket")?;
        let name = known(&m.name, "name")?.clone();
        let tags = ontology::declared(&m.lf_tags, &name);
        Ok(Self {
            description: m.description.known().cloned(),
            team: known(&owner.team, "owner.team")?.clone(),
            email: known(&owner.email, "owner.email")?.clone(),
            bucket: known(&bucket.name, "bucket.name")?.clone(),
            create_bucket: bucket.create.known().copied().unwrap_or(true),
            force_destroy: bucket.force_destroy.known().copied().unwrap_or(false),
            role: m.registration_role_arn.known().cloned(),
            tags,
            lake_formation_only: m.lake_formation_only.known().copied().unwrap_or(true),
            name,
        })
    }

    pub(super) fn database(&self) -> String {
        database_name(&self.name)
    }

    pub(super) fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.bucket)
    }

    pub(super) fn parameters(&self) -> std::collections::HashMap<String, String> {
        let mut p = std::collections::HashMap::from([
            (P_DOMAIN.to_string(), self.name.clone()),
            (P_TEAM.to_string(), self.team.clone()),
            (P_EMAIL.to_string(), self.email.clone()),
            (P_BUCKET.to_string(), self.bucket.clone()),
            (P_BUCKET_CREATED.to_string(), self.create_bucket.to_string()),
        ]);
        if let Some(role) = &self.role {
            p.insert(P_ROLE.to_string(), role.clone());
        }
        p
    }

    pub(super) fn database_input(&self) -> Result<DatabaseInput, Diagnostics> {
        DatabaseInput::builder()
            .name(self.database())
            .set_description(self.description.clone())
            .location_uri(format!("s3://{}/", self.bucket))
            .set_parameters(Some(self.parameters()))
            // Empty, not absent: an absent list lets the account default (IAM_ALLOWED_PRINCIPALS
            // ALL on every new table) apply, which makes IAM policies bypass Lake Formation.
            .set_create_table_default_permissions(Some(Vec::new()))
            .build()
            .map_err(|e| Diagnostic::provider_bug(e).into())
    }

    /// The state for this spec in `catalog_id`.
    pub(super) fn state(&self, catalog_id: &str, prior: &Model) -> Model {
        Model {
            id: Attr::Known(self.name.clone()),
            name: Attr::Known(self.name.clone()),
            description: self.description.clone().into(),
            owner: Attr::Known(Owner {
                team: Attr::Known(self.team.clone()),
                email: Attr::Known(self.email.clone()),
            }),
            bucket: Attr::Known(Bucket {
                name: Attr::Known(self.bucket.clone()),
                create: Attr::Known(self.create_bucket),
                force_destroy: Attr::Known(self.force_destroy),
            }),
            registration_role_arn: self.role.clone().into(),
            lf_tags: prior.lf_tags.clone(),
            lake_formation_only: Attr::Known(self.lake_formation_only),
            database_name: Attr::Known(self.database()),
            location: Attr::Known(format!("s3://{}/", self.bucket)),
            bucket_arn: Attr::Known(self.bucket_arn()),
            catalog_id: Attr::Known(catalog_id.to_string()),
        }
    }
}

pub(super) fn db_resource(catalog_id: &str, database: &str) -> Result<LfResource, Diagnostics> {
    let db = DatabaseResource::builder()
        .catalog_id(catalog_id)
        .name(database)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().database(db).build())
}

pub(super) fn db_resource_in_own_catalog(database: &str) -> Result<LfResource, Diagnostics> {
    let db = DatabaseResource::builder()
        .name(database)
        .build()
        .map_err(|e| Diagnostics::from(Diagnostic::provider_bug(e)))?;
    Ok(LfResource::builder().database(db).build())
}

/// What is wrong with an S3 bucket name, if anything.
pub fn check_bucket_name(name: &str) -> Option<String> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    let looks_like_ip =
        name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok());
    if !(3..=63).contains(&name.len())
        || !valid_chars
        || !ends_ok
        || name.contains("..")
        || looks_like_ip
    {
        return Some(format!(
            "{name:?} is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit."
        ));
    }
    None
}

pub(super) fn check_email(email: &str) -> Option<String> {
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.chars().any(char::is_whitespace);
    (!ok).then(|| format!("{email:?} is not an email address."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model {
            name: Attr::Known("sales".into()),
            owner: Attr::Known(Owner {
                team: Attr::Known("sales-data".into()),
                email: Attr::Known("data@sales.example".into()),
            }),
            bucket: Attr::Known(Bucket {
                name: Attr::Known("sales-lake".into()),
                create: Attr::Known(false),
                force_destroy: Attr::Known(false),
            }),
            lf_tags: Attr::Known([("sensitivity".to_string(), "internal".to_string())].into()),
            ..Model::default()
        }
    }

    #[test]
    fn spec_carries_the_domain_tag_and_the_database_keeps_what_import_needs() {
        let spec = Spec::from(&model()).unwrap();
        assert_eq!(spec.database(), "sales_products");
        assert_eq!(spec.tags.get("domain").map(String::as_str), Some("sales"));
        assert_eq!(
            spec.tags.get("sensitivity").map(String::as_str),
            Some("internal")
        );
        let params = spec.parameters();
        assert_eq!(params.get(P_DOMAIN).map(String::as_str), Some("sales"));
        assert_eq!(params.get(P_BUCKET).map(String::as_str), Some("sales-lake"));
        assert_eq!(
            params.get(P_BUCKET_CREATED).map(String::as_str),
            Some("false")
        );
        assert!(!params.contains_key(P_ROLE));
        let input = spec.database_input().unwrap();
        assert_eq!(input.location_uri(), Some("s3://sales-lake/"));
        assert_eq!(
            input.create_table_default_permissions(),
            &[],
            "an empty list, so no IAM_ALLOWED_PRINCIPALS default applies"
        );
    }

    #[test]
    fn a_model_missing_what_apply_needs_is_a_provider_bug_not_a_panic() {
        let no_owner = Model {
            owner: Attr::Unknown,
            ..model()
        };
        let err = Spec::from(&no_owner).unwrap_err();
        assert!(err.to_string().contains("owner"), "{err}");
    }

    #[test]
    fn bucket_names_and_addresses() {
        assert!(check_bucket_name("sales-lake.v2").is_none());
        for bad in [
            "ab",
            "Sales",
            "-sales",
            "sales-",
            "a..b",
            "192.168.0.1",
            "a_b",
        ] {
            assert!(check_bucket_name(bad).is_some(), "{bad:?}");
        }
        assert!(check_email("data@sales.example").is_none());
        for bad in ["data", "@x.io", "a@b", "a@.b", "a b@c.d", "a@b."] {
            assert!(check_email(bad).is_some(), "{bad:?}");
        }
    }
}
