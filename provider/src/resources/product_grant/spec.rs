//! The grant's id, what the user declared ([`Spec`]) and the Lake Formation grants it stands for, and what exists of them ([`Found`]).

use super::*;
use crate::resources::Action;

/// A parsed `mesh_product_grant` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantId {
    /// Catalog (account) id.
    pub catalog_id: String,
    /// Principal.
    pub principal: String,
    /// Database name.
    pub database: String,
    /// Table name.
    pub table: String,
}

impl GrantId {
    /// `CATALOG|PRINCIPAL|DATABASE.TABLE`.
    pub fn render(&self) -> String {
        format!(
            "{}|{}|{}.{}",
            self.catalog_id, self.principal, self.database, self.table
        )
    }

    /// Parses [`GrantId::render`]'s format.
    pub fn parse(id: &str) -> Result<Self, String> {
        let parts: Vec<&str> = id.splitn(3, '|').collect();
        let [catalog, principal, target] = parts.as_slice() else {
            return Err(format!("{id:?} is not CATALOG|PRINCIPAL|DATABASE.TABLE."));
        };
        if !is_account_id(catalog) {
            return Err(format!(
                "{catalog:?} (before the first `|`) is not a 12-digit catalog id."
            ));
        }
        if let Some(p) = check_principal(principal) {
            return Err(p);
        }
        let Some((database, table)) = target.split_once('.') else {
            return Err(format!("{target:?} is not DATABASE.TABLE."));
        };
        for n in [database, table] {
            if let Some(p) = check_glue_name(n) {
                return Err(p);
            }
        }
        Ok(Self {
            catalog_id: catalog.to_string(),
            principal: principal.to_string(),
            database: database.to_string(),
            table: table.to_string(),
        })
    }
}

impl std::fmt::Display for GrantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// What is wrong with a Glue database or table name here, if anything: Glue's rules, and no `.`
/// or `|`, which separate the parts of this resource's id.
pub(super) fn check_glue_name(name: &str) -> Option<String> {
    rules::check_glue_name(name).or_else(|| {
        name.chars().find(|c| matches!(c, '.' | '|')).map(|c| {
            format!("{name:?} contains {c:?}, which separates the parts of this grant's id.")
        })
    })
}

/// What is wrong with a `<domain>/<name>` product reference, if anything.
pub(super) fn check_product(s: &str) -> Option<String> {
    let Some((domain, name)) = s.split_once('/') else {
        return Some(format!(
            "{s:?} is not DOMAIN/NAME (for example \"commerce/orders\")."
        ));
    };
    check_domain_name(domain).or_else(|| {
        let ok = !name.is_empty()
            && name.len() <= 128
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        (!ok).then(|| format!("{name:?} is not a product name: 1 to 128 lowercase letters, digits and underscores, starting with a letter."))
    })
}

/// The product a table is, when it is a domain's product in `account`'s own catalog.
pub(super) fn product_of(
    catalog: &str,
    account: &str,
    database: &str,
    table: &str,
) -> Option<String> {
    let domain = database.strip_suffix("_products")?;
    (catalog == account
        && check_domain_name(domain).is_none()
        && check_product(&format!("{domain}/{table}")).is_none())
    .then(|| format!("{domain}/{table}"))
}

/// What the user declared: everything the grant operations need, from a model whose values
/// are known.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(super) catalog_id: String,
    pub(super) database: String,
    pub(super) table: String,
    pub(super) principal: String,
    pub(super) permissions: BTreeSet<String>,
    pub(super) columns: Option<Columns>,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        let columns = Self::columns_of(m);
        Ok(Self {
            catalog_id: known(&m.catalog_id, "catalog_id")?.clone(),
            database: known(&m.database, "database")?.clone(),
            table: known(&m.table, "table")?.clone(),
            principal: known(&m.principal, "principal")?.clone(),
            permissions: known(&m.permissions, "permissions")?.clone(),
            columns,
        })
    }

    /// The columns a model declares.
    pub(super) fn columns_of(m: &Model) -> Option<Columns> {
        match (&m.columns, &m.excluded_columns) {
            (Attr::Known(c), _) => Some(Columns::Only(c.clone())),
            (_, Attr::Known(c)) if !c.is_empty() => Some(Columns::Except(c.clone())),
            _ => None,
        }
    }

    /// The grant `id` names, with no permissions declared.
    pub(super) fn of_id(id: &GrantId) -> Self {
        Self {
            catalog_id: id.catalog_id.clone(),
            database: id.database.clone(),
            table: id.table.clone(),
            principal: id.principal.clone(),
            permissions: BTreeSet::new(),
            columns: None,
        }
    }

    pub(super) fn id(&self) -> String {
        GrantId {
            catalog_id: self.catalog_id.clone(),
            principal: self.principal.clone(),
            database: self.database.clone(),
            table: self.table.clone(),
        }
        .render()
    }

    pub(super) fn database_target(&self) -> Target {
        Target::Database {
            catalog_id: self.catalog_id.clone(),
            name: self.database.clone(),
        }
    }

    pub(super) fn table_target(&self) -> Target {
        Target::Table {
            catalog_id: self.catalog_id.clone(),
            database: self.database.clone(),
            name: self.table.clone(),
        }
    }

    pub(super) fn columns_target(&self, columns: &Columns) -> Target {
        Target::Columns {
            catalog_id: self.catalog_id.clone(),
            database: self.database.clone(),
            name: self.table.clone(),
            columns: columns.clone(),
        }
    }

    pub(super) fn database_grant(&self) -> Grant {
        Grant::new(&self.principal, self.database_target(), [DESCRIBE])
    }

    /// The grants on the table: with columns, SELECT on those columns and the other permissions
    /// on the table; without, every permission on the table.
    pub(super) fn table_grants(&self) -> Vec<Grant> {
        let mut out = Vec::new();
        let mut table_perms = self.permissions.clone();
        if let Some(cols) = &self.columns {
            if table_perms.remove(SELECT) {
                out.push(Grant::new(
                    &self.principal,
                    self.columns_target(cols),
                    [SELECT],
                ));
            }
        }
        if !table_perms.is_empty() {
            out.push(Grant::new(
                &self.principal,
                self.table_target(),
                table_perms,
            ));
        }
        out
    }

    pub(super) fn grants(&self) -> Vec<Grant> {
        let mut out = vec![self.database_grant()];
        out.extend(self.table_grants());
        out
    }

    /// The model for what exists of this spec's table grants.
    pub(super) fn state(&self, owned: &[Grant], account: &str) -> Model {
        let mut permissions = BTreeSet::new();
        let mut columns: Option<Columns> = None;
        for g in owned {
            match &g.target {
                Target::Table { .. } => permissions.extend(g.permissions.iter().cloned()),
                Target::Columns { columns: c, .. } => {
                    permissions.extend(g.permissions.iter().cloned());
                    columns = Some(c.clone());
                }
                _ => {}
            }
        }
        // Columns are part of what the grant is on: keep the declared ones (a column grant
        // gone entirely shows as SELECT missing).
        let columns = self.columns.clone().or(columns);
        let (cols, excluded) = match columns {
            Some(Columns::Only(c)) => (Attr::Known(c), Attr::Null),
            Some(Columns::Except(c)) => (Attr::Null, Attr::Known(c)),
            None => (Attr::Null, Attr::Null),
        };
        Model {
            id: Attr::Known(self.id()),
            product: product_of(&self.catalog_id, account, &self.database, &self.table).into(),
            catalog_id: Attr::Known(self.catalog_id.clone()),
            database: Attr::Known(self.database.clone()),
            table: Attr::Known(self.table.clone()),
            principal: Attr::Known(self.principal.clone()),
            permissions: Attr::Known(permissions),
            columns: cols,
            excluded_columns: excluded,
        }
    }
}

pub(super) fn list_diag(spec: &Spec, e: &AwsError) -> Diagnostics {
    aws_diag(
        Action::List,
        format!(
            "the grants of {} on {}.{}",
            spec.principal, spec.database, spec.table
        ),
        e,
    )
}

/// What exists now of a grant: the principal's grants on the table (or its columns), and
/// whether it holds DESCRIBE on the database.
pub struct Found {
    pub(super) table: Vec<Grant>,
    pub(super) database: bool,
    /// The caller's account: a table of a domain in it is a product.
    pub(super) account: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn spec(columns: Option<Columns>) -> Spec {
        Spec {
            catalog_id: "444455556666".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
            principal: "777788889999".into(),
            permissions: set(&["SELECT", "DESCRIBE"]),
            columns,
        }
    }

    #[test]
    fn ids_round_trip() {
        let id = GrantId {
            catalog_id: "444455556666".into(),
            principal: "arn:aws:iam::777788889999:role/Analyst".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
        };
        assert_eq!(
            id.render(),
            "444455556666|arn:aws:iam::777788889999:role/Analyst|commerce_products.orders"
        );
        assert_eq!(GrantId::parse(&id.render()).unwrap(), id);
        assert!(GrantId::parse("444455556666|777788889999|orders").is_err());
        assert!(GrantId::parse("4444|777788889999|a.b").is_err());
        assert!(GrantId::parse("444455556666|bob|a.b").is_err());
    }

    #[test]
    fn columns_carry_select_and_the_rest_stays_on_the_table() {
        let g = spec(Some(Columns::Only(set(&["id", "total"])))).table_grants();
        assert_eq!(g.len(), 2);
        assert!(matches!(g[0].target, Target::Columns { .. }));
        assert_eq!(g[0].permissions, set(&["SELECT"]));
        assert_eq!(g[1].permissions, set(&["DESCRIBE"]));
        let g = spec(None).table_grants();
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].permissions, set(&["SELECT", "DESCRIBE"]));
    }

    #[test]
    fn state_reads_back_what_was_granted() {
        let s = spec(Some(Columns::Except(set(&["email"]))));
        let m = s.state(&s.table_grants(), "444455556666");
        assert_eq!(m.permissions, Attr::Known(set(&["SELECT", "DESCRIBE"])));
        assert_eq!(m.excluded_columns, Attr::Known(set(&["email"])));
        assert_eq!(m.columns, Attr::Null);
        assert_eq!(m.product, Attr::Known("commerce/orders".into()));
        // In another account's catalog it is not "a product in this account".
        let m = s.state(&s.table_grants(), "111111111111");
        assert_eq!(m.product, Attr::Null);
    }

    #[test]
    fn both_references_are_accepted_only_when_they_agree() {
        let config = |database: &str, table: &str| Model {
            product: Attr::Known("commerce/orders".into()),
            database: Attr::Known(database.into()),
            table: Attr::Known(table.into()),
            principal: Attr::Known("777788889999".into()),
            ..Model::default()
        };
        let problems = |m: &Model| {
            let mut diags = Diagnostics::new();
            ProductGrant.validate(m, &mut diags);
            diags
                .0
                .iter()
                .map(|d| {
                    format!(
                        "{}: {}",
                        d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                        d.summary
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(problems(&config("commerce_products", "orders")).is_empty());
        assert_eq!(
            problems(&config("finance_products", "invoices")),
            [
                "database: Conflicting product reference",
                "table: Conflicting product reference"
            ]
        );
    }

    #[test]
    fn product_references() {
        assert!(check_product("commerce/orders").is_none());
        assert!(check_product("commerce").is_some());
        assert!(check_product("Commerce/orders").is_some());
        assert!(check_product("commerce/Orders").is_some());
    }
}
