//! What the user declared ([`Spec`]), what destroy restores (`Previous`), and the conversions between Lake Formation's settings and the model.

use super::*;

/// What the user declared; `None`: a field not managed.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub(super) catalog: AccountId,
    pub(super) admins: Option<BTreeSet<String>>,
    pub(super) trusted_resource_owners: Option<BTreeSet<String>>,
    pub(super) iam_allowed_defaults: bool,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        let catalog = known(&m.catalog_id, "catalog_id")?;
        Ok(Self {
            catalog: AccountId::parse(catalog).map_err(Diagnostic::provider_bug)?,
            admins: m.admins.known().cloned(),
            trusted_resource_owners: m.trusted_resource_owners.known().cloned(),
            iam_allowed_defaults: *known(
                &m.iam_allowed_principals_defaults,
                "iam_allowed_principals_defaults",
            )?,
        })
    }
}

/// One default-permission entry, as `previous_settings` records it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) struct Grant {
    pub(super) principal: String,
    pub(super) permissions: Vec<String>,
}

/// What `previous_settings` holds: one entry per field the resource manages (a missing entry is a
/// field it does not manage). Fields in alphabetical order, so the JSON is canonical.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Previous {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) admins: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) create_database_default_permissions: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) create_table_default_permissions: Option<Vec<Grant>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) trusted_resource_owners: Option<BTreeSet<String>>,
}

impl Previous {
    pub(super) fn parse(text: &Attr<String>) -> Result<Self, Diagnostics> {
        match text {
            Attr::Known(t) => serde_json::from_str(t).map_err(|e| {
                Diagnostic::provider_bug(format!("previous_settings is not readable: {e}")).into()
            }),
            _ => Ok(Self::default()),
        }
    }

    /// Canonical JSON: fields in a fixed order, sets sorted.
    pub(super) fn to_json(&self) -> Result<String, Diagnostics> {
        serde_json::to_string(self).map_err(|e| Diagnostic::provider_bug(e).into())
    }

    /// The keys present, for comparing which fields are managed.
    pub(super) fn keys(&self) -> BTreeSet<&'static str> {
        let mut keys = BTreeSet::new();
        if self.admins.is_some() {
            keys.insert(K_ADMINS);
        }
        if self.trusted_resource_owners.is_some() {
            keys.insert(K_TRUSTED);
        }
        if self.create_database_default_permissions.is_some() {
            keys.insert(K_DB_DEFAULTS);
        }
        if self.create_table_default_permissions.is_some() {
            keys.insert(K_TABLE_DEFAULTS);
        }
        keys
    }
}

/// The fields a model manages: `previous_settings` keys it needs.
pub(super) fn managed_keys(m: &Model) -> BTreeSet<&'static str> {
    let mut keys = BTreeSet::from([K_DB_DEFAULTS, K_TABLE_DEFAULTS]);
    if !m.admins.is_null() {
        keys.insert(K_ADMINS);
    }
    if !m.trusted_resource_owners.is_null() {
        keys.insert(K_TRUSTED);
    }
    keys
}

/// What is wrong with a data lake administrator, if anything: an IAM role or user ARN.
pub fn check_admin(s: &str) -> Option<String> {
    if let Err(e) = crate::aws::check_arn(s) {
        return Some(e);
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let iam = parts.get(2) == Some(&"iam")
        && parts.get(4).is_some_and(|a| is_account_id(a))
        && parts
            .get(5)
            .is_some_and(|r| r.starts_with("role/") || r.starts_with("user/"));
    (!iam).then(|| {
        format!("{s:?} is not an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME or arn:aws:iam::ACCOUNT:user/NAME).")
    })
}

pub(super) fn principals(arns: &BTreeSet<String>) -> Vec<DataLakePrincipal> {
    arns.iter()
        .map(|a| {
            DataLakePrincipal::builder()
                .data_lake_principal_identifier(a)
                .build()
        })
        .collect()
}

pub(super) fn principal_set(list: Option<&Vec<DataLakePrincipal>>) -> BTreeSet<String> {
    list.into_iter()
        .flatten()
        .filter_map(|p| p.data_lake_principal_identifier.clone())
        .collect()
}

pub(super) fn to_grants(list: Option<&Vec<PrincipalPermissions>>) -> Vec<Grant> {
    let mut grants: Vec<Grant> = list
        .into_iter()
        .flatten()
        .map(|g| {
            let mut permissions: Vec<String> = g
                .permissions
                .iter()
                .flatten()
                .map(|p| p.as_str().to_string())
                .collect();
            permissions.sort();
            permissions.dedup();
            Grant {
                principal: g
                    .principal
                    .as_ref()
                    .and_then(|p| p.data_lake_principal_identifier.clone())
                    .unwrap_or_default(),
                permissions,
            }
        })
        .collect();
    grants.sort();
    grants
}

pub(super) fn from_grants(grants: &[Grant]) -> Vec<PrincipalPermissions> {
    grants
        .iter()
        .map(|g| {
            PrincipalPermissions::builder()
                .principal(
                    DataLakePrincipal::builder()
                        .data_lake_principal_identifier(&g.principal)
                        .build(),
                )
                .set_permissions(Some(
                    g.permissions
                        .iter()
                        .map(|p| Permission::from(p.as_str()))
                        .collect(),
                ))
                .build()
        })
        .collect()
}

/// The default permissions `iam_allowed_principals_defaults` stands for.
pub(super) fn defaults_for(iam_allowed: bool) -> Vec<Grant> {
    if iam_allowed {
        vec![Grant {
            principal: IAM_ALLOWED_PRINCIPALS.into(),
            permissions: vec!["ALL".into()],
        }]
    } else {
        Vec::new()
    }
}

/// `iam_allowed_principals_defaults` as found: `Some(true)` when both default lists are exactly
/// IAM_ALLOWED_PRINCIPALS ALL, `Some(false)` when both are empty, `None` for anything else
/// (shown as null, so any configuration plans a repair).
pub(super) fn defaults_found(settings: &DataLakeSettings) -> Option<bool> {
    let db = to_grants(settings.create_database_default_permissions.as_ref());
    let table = to_grants(settings.create_table_default_permissions.as_ref());
    [true, false]
        .into_iter()
        .find(|&v| db == defaults_for(v) && table == defaults_for(v))
}

pub(super) fn lf(e: &crate::aws::AwsError, action: Action, catalog: &str) -> Diagnostics {
    aws_diag(action, format!("the data lake settings of {catalog}"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(db: &[Grant], table: &[Grant]) -> DataLakeSettings {
        let mut s = DataLakeSettings::builder().build();
        s.create_database_default_permissions = Some(from_grants(db));
        s.create_table_default_permissions = Some(from_grants(table));
        s
    }

    #[test]
    fn defaults_are_read_exactly() {
        let iam = defaults_for(true);
        assert_eq!(defaults_found(&settings(&iam, &iam)), Some(true));
        assert_eq!(defaults_found(&settings(&[], &[])), Some(false));
        // Mixed: neither; shown as null so the plan repairs it.
        assert_eq!(defaults_found(&settings(&iam, &[])), None);
        let other = [Grant {
            principal: "arn:aws:iam::111111111111:role/x".into(),
            permissions: vec!["ALL".into()],
        }];
        assert_eq!(defaults_found(&settings(&other, &other)), None);
    }

    /// A spec that manages no optional field.
    fn spec() -> Spec {
        Spec {
            catalog: AccountId::parse("111111111111").unwrap(),
            admins: None,
            trusted_resource_owners: None,
            iam_allowed_defaults: false,
        }
    }

    #[test]
    fn apply_keeps_unmanaged_fields() {
        let mut found = settings(&defaults_for(true), &defaults_for(true));
        found.read_only_admins = Some(principals(&BTreeSet::from([
            "arn:aws:iam::111111111111:role/ro".to_string(),
        ])));
        found.trusted_resource_owners = Some(vec!["222222222222".into()]);
        found.parameters = Some([("CROSS_ACCOUNT_VERSION".to_string(), "4".to_string())].into());
        let planned = Spec {
            admins: Some(BTreeSet::from([
                "arn:aws:iam::111111111111:role/admin".to_string()
            ])),
            ..spec()
        };
        let out = LakeSettings::apply(found.clone(), &planned);
        assert_eq!(out.read_only_admins, found.read_only_admins);
        assert_eq!(out.parameters, found.parameters);
        // Not managed (null): untouched.
        assert_eq!(out.trusted_resource_owners, found.trusted_resource_owners);
        assert_eq!(out.create_table_default_permissions, Some(Vec::new()));
        assert_eq!(
            principal_set(out.data_lake_admins.as_ref()),
            BTreeSet::from(["arn:aws:iam::111111111111:role/admin".to_string()])
        );
    }

    #[test]
    fn previous_records_managed_fields_once() {
        let found = settings(&defaults_for(true), &defaults_for(true));
        let mut previous = Previous::default();
        let planned = Spec {
            admins: Some(BTreeSet::new()),
            ..spec()
        };
        LakeSettings::remember(&mut previous, &found, &planned);
        assert_eq!(
            previous.keys(),
            BTreeSet::from([K_ADMINS, K_DB_DEFAULTS, K_TABLE_DEFAULTS])
        );
        let model = Model {
            admins: Attr::Known(BTreeSet::new()),
            ..Model::default()
        };
        assert_eq!(previous.keys(), managed_keys(&model));
        let json = previous.to_json().unwrap();
        assert_eq!(
            json,
            r#"{"admins":[],"create_database_default_permissions":[{"principal":"IAM_ALLOWED_PRINCIPALS","permissions":["ALL"]}],"create_table_default_permissions":[{"principal":"IAM_ALLOWED_PRINCIPALS","permissions":["ALL"]}]}"#
        );
        // Found again later (already recorded): kept, not overwritten.
        let later = settings(&[], &[]);
        LakeSettings::remember(&mut previous, &later, &planned);
        assert_eq!(previous.to_json().unwrap(), json);
        // No longer managed: forgotten.
        LakeSettings::remember(&mut previous, &later, &spec());
        assert!(previous.admins.is_none());
    }

    #[test]
    fn admin_rules() {
        assert!(check_admin("arn:aws:iam::111111111111:role/DataPlatformAdmin").is_none());
        assert!(check_admin("arn:aws:iam::111111111111:user/alice").is_none());
        assert!(check_admin("arn:aws:iam::111111111111:group/admins").is_some());
        assert!(check_admin("arn:aws:s3:::bucket").is_some());
        assert!(check_admin("admin").is_some());
    }
}
