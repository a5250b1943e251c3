//! Grants as values: the targets Lake Formation grants on, a grant with exact equality, list filters, and the principals it grants to.

use super::*;

/// Which columns a column-level grant covers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Columns {
    /// Exactly these columns.
    Only(BTreeSet<String>),
    /// Every column but these.
    Except(BTreeSet<String>),
}

/// The kind of resources an LF-tag policy grant applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Databases whose tags match the expression.
    Database,
    /// Tables whose tags match the expression.
    Table,
}

/// What a grant is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Target {
    /// A Glue database.
    Database {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        name: String,
    },
    /// A whole Glue table.
    Table {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        database: String,
        /// Table name.
        name: String,
    },
    /// Some columns of a Glue table.
    Columns {
        /// The catalog (account id) holding it.
        catalog_id: String,
        /// Database name.
        database: String,
        /// Table name.
        name: String,
        /// The columns.
        columns: Columns,
    },
    /// Every database or table whose LF-tags match an expression.
    TagPolicy {
        /// The catalog (account id) holding the LF-tags.
        catalog_id: String,
        /// Databases or tables.
        kind: PolicyKind,
        /// Tag key -> the values any of which matches.
        expression: BTreeMap<String, BTreeSet<String>>,
    },
}

impl Target {
    /// The catalog the target lives in: where the grant is made and listed.
    pub fn catalog_id(&self) -> &str {
        match self {
            Target::Database { catalog_id, .. }
            | Target::Table { catalog_id, .. }
            | Target::Columns { catalog_id, .. }
            | Target::TagPolicy { catalog_id, .. } => catalog_id,
        }
    }

    /// The SDK resource. Always names the catalog and lists keys and values sorted: some
    /// implementations (the emulator) compare stored resources as exact documents, so the same
    /// grant must always be sent the same way.
    pub fn to_sdk(&self) -> Result<Resource, Diagnostics> {
        let bug = |e: aws_smithy_types::error::operation::BuildError| {
            Diagnostics::from(Diagnostic::provider_bug(e))
        };
        Ok(match self {
            Target::Database { catalog_id, name } => Resource::builder()
                .database(
                    DatabaseResource::builder()
                        .catalog_id(catalog_id)
                        .name(name)
                        .build()
                        .map_err(bug)?,
                )
                .build(),
            Target::Table {
                catalog_id,
                database,
                name,
            } => Resource::builder()
                .table(
                    TableResource::builder()
                        .catalog_id(catalog_id)
                        .database_name(database)
                        .name(name)
                        .build()
                        .map_err(bug)?,
                )
                .build(),
            Target::Columns {
                catalog_id,
                database,
                name,
                columns,
            } => {
                let mut b = TableWithColumnsResource::builder()
                    .catalog_id(catalog_id)
                    .database_name(database)
                    .name(name);
                b = match columns {
                    Columns::Only(cols) => b.set_column_names(Some(cols.iter().cloned().collect())),
                    Columns::Except(cols) => b.column_wildcard(
                        ColumnWildcard::builder()
                            .set_excluded_column_names(Some(cols.iter().cloned().collect()))
                            .build(),
                    ),
                };
                Resource::builder()
                    .table_with_columns(b.build().map_err(bug)?)
                    .build()
            }
            Target::TagPolicy {
                catalog_id,
                kind,
                expression,
            } => {
                let mut tags = Vec::with_capacity(expression.len());
                for (key, values) in expression {
                    tags.push(
                        LfTag::builder()
                            .tag_key(key)
                            .set_tag_values(Some(values.iter().cloned().collect()))
                            .build()
                            .map_err(bug)?,
                    );
                }
                let policy = LfTagPolicyResource::builder()
                    .catalog_id(catalog_id)
                    .resource_type(match kind {
                        PolicyKind::Database => ResourceType::Database,
                        PolicyKind::Table => ResourceType::Table,
                    })
                    .set_expression(Some(tags))
                    .build()
                    .map_err(bug)?;
                Resource::builder().lf_tag_policy(policy).build()
            }
        })
    }

    /// The target of a listed resource; `None` for kinds no resource here manages. A missing
    /// catalog id means `default_catalog` (the catalog that was listed). A column grant on every
    /// column (a wildcard without exclusions) is the table itself: Lake Formation lists the
    /// SELECT of a table grant that way.
    pub fn from_sdk(resource: &Resource, default_catalog: &str) -> Option<Target> {
        let catalog = |c: Option<&str>| c.unwrap_or(default_catalog).to_string();
        if let Some(db) = &resource.database {
            return Some(Target::Database {
                catalog_id: catalog(db.catalog_id()),
                name: db.name.clone(),
            });
        }
        if let Some(t) = &resource.table {
            return Some(Target::Table {
                catalog_id: catalog(t.catalog_id()),
                database: t.database_name.clone(),
                name: t.name.clone()?,
            });
        }
        if let Some(t) = &resource.table_with_columns {
            let catalog_id = catalog(t.catalog_id());
            let columns = match (&t.column_names, &t.column_wildcard) {
                (Some(names), _) if !names.is_empty() => {
                    Columns::Only(names.iter().cloned().collect())
                }
                (_, Some(w)) if !w.excluded_column_names().is_empty() => {
                    Columns::Except(w.excluded_column_names().iter().cloned().collect())
                }
                _ => {
                    return Some(Target::Table {
                        catalog_id,
                        database: t.database_name.clone(),
                        name: t.name.clone(),
                    })
                }
            };
            return Some(Target::Columns {
                catalog_id,
                database: t.database_name.clone(),
                name: t.name.clone(),
                columns,
            });
        }
        if let Some(p) = &resource.lf_tag_policy {
            let kind = match p.resource_type {
                ResourceType::Database => PolicyKind::Database,
                ResourceType::Table => PolicyKind::Table,
                _ => return None,
            };
            // A named expression is another kind of grant; ours are always inline.
            if p.expression_name.is_some() {
                return None;
            }
            let mut expression: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for tag in &p.expression {
                expression
                    .entry(tag.tag_key.clone())
                    .or_default()
                    .extend(tag.tag_values.iter().cloned());
            }
            return Some(Target::TagPolicy {
                catalog_id: catalog(p.catalog_id()),
                kind,
                expression,
            });
        }
        None
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Database { catalog_id, name } => write!(f, "database {catalog_id}:{name}"),
            Target::Table {
                catalog_id,
                database,
                name,
            } => write!(f, "table {catalog_id}:{database}.{name}"),
            Target::Columns {
                catalog_id,
                database,
                name,
                columns,
            } => {
                let (how, cols) = match columns {
                    Columns::Only(c) => ("columns", c),
                    Columns::Except(c) => ("all columns except", c),
                };
                let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
                write!(
                    f,
                    "{how} {} of table {catalog_id}:{database}.{name}",
                    cols.join(", ")
                )
            }
            Target::TagPolicy {
                catalog_id,
                kind,
                expression,
            } => {
                let kind = match kind {
                    PolicyKind::Database => "databases",
                    PolicyKind::Table => "tables",
                };
                let expr: Vec<String> = expression
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k} in [{}]",
                            v.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                        )
                    })
                    .collect();
                write!(
                    f,
                    "{kind} tagged {} (catalog {catalog_id})",
                    expr.join(" and ")
                )
            }
        }
    }
}

/// One grant: permissions (and the grantable subset) of a principal on a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The principal: an IAM role or user ARN, an account id, an organization or OU ARN.
    pub principal: String,
    /// What the grant is on.
    pub target: Target,
    /// Permissions, e.g. `SELECT`.
    pub permissions: BTreeSet<String>,
    /// Permissions the principal may grant on to others (a subset of `permissions`).
    pub grantable: BTreeSet<String>,
}

impl Grant {
    /// A grant without grant options.
    pub fn new(
        principal: impl Into<String>,
        target: Target,
        permissions: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            principal: principal.into(),
            target,
            permissions: permissions.into_iter().map(Into::into).collect(),
            grantable: BTreeSet::new(),
        }
    }

    /// True when the grant gives nothing.
    pub fn is_empty(&self) -> bool {
        self.permissions.is_empty() && self.grantable.is_empty()
    }

    pub(super) fn key(&self) -> (&str, &Target) {
        (&self.principal, &self.target)
    }
}

/// What to list: everything in a catalog, narrowed by principal and target, or by a kind.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The catalog to list (its grants are stored there).
    pub catalog_id: String,
    /// Only this principal's grants (Lake Formation requires a target with it).
    pub principal: Option<String>,
    /// Only grants on this target.
    pub target: Option<Target>,
    /// Only grants on resources of this kind (when no target is given).
    pub kind: Option<DataLakeResourceType>,
}

impl Filter {
    /// The grants of `principal` on `target`.
    pub fn exact(principal: &str, target: &Target) -> Self {
        Self {
            catalog_id: target.catalog_id().to_string(),
            principal: Some(principal.to_string()),
            target: Some(target.clone()),
            kind: None,
        }
    }

    pub(super) fn keeps(&self, grant: &Grant) -> bool {
        self.principal
            .as_ref()
            .is_none_or(|p| *p == grant.principal)
            && self.target.as_ref().is_none_or(|t| *t == grant.target)
    }
}

pub(super) fn principal(id: &str) -> DataLakePrincipal {
    DataLakePrincipal::builder()
        .data_lake_principal_identifier(id)
        .build()
}

pub(super) fn names(perms: &[Permission]) -> impl Iterator<Item = String> + '_ {
    perms.iter().map(|p| p.as_str().to_string())
}

/// What is wrong with a principal, if anything: an IAM role or user ARN, a 12-digit account id,
/// or an AWS Organizations organization or organizational unit ARN.
pub fn check_principal(p: &str) -> Option<String> {
    if crate::rules::is_account_id(p) {
        return None;
    }
    let hint = "Use an IAM role or user ARN (arn:aws:iam::ACCOUNT:role/NAME), a 12-digit account id, or an organization (arn:aws:organizations::ACCOUNT:organization/o-ID) or OU ARN (arn:aws:organizations::ACCOUNT:ou/o-ID/ou-ID).";
    if let Err(problem) = crate::aws::check_arn(p) {
        return Some(format!("{problem} {hint}"));
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    let (service, account, resource) = (parts[2], parts[4], parts[5]);
    let ok = match service {
        "iam" => {
            !account.is_empty()
                && ["role/", "user/"]
                    .iter()
                    .any(|k| resource.strip_prefix(k).is_some_and(|r| !r.is_empty()))
        }
        "organizations" => {
            let segs: Vec<&str> = resource.split('/').collect();
            !account.is_empty()
                && match segs.as_slice() {
                    ["organization", o] => o.starts_with("o-") && o.len() > 2,
                    ["ou", o, ou] => o.starts_with("o-") && ou.starts_with("ou-"),
                    _ => false,
                }
        }
        _ => false,
    };
    (!ok).then(|| format!("{p:?} is not a principal Lake Formation grants to. {hint}"))
}
