//! The grant's id (escaped and sorted), the expression's rules, and what the user declared ([`Spec`]) with the two LF-tag policy grants it stands for.

use super::*;
use crate::resources::Action;

/// A parsed `mesh_tag_grant` id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantId {
    /// Catalog (account) id.
    pub catalog_id: String,
    /// Principal.
    pub principal: String,
    /// Expression.
    pub expression: Expression,
}

impl std::fmt::Display for GrantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// Characters that separate the parts of an id; escaped (with `%`) inside keys and values.
pub(super) const RESERVED: [(char, &str); 5] = [
    ('%', "%25"),
    ('|', "%7C"),
    (';', "%3B"),
    ('=', "%3D"),
    (',', "%2C"),
];

pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match RESERVED.iter().find(|(r, _)| *r == c) {
            Some((_, e)) => out.push_str(e),
            None => out.push(c),
        }
    }
    out
}

pub(super) fn unescape(s: &str) -> String {
    let mut out = s.to_string();
    // `%25` last, so an escaped `%` never forms another escape.
    for (c, e) in RESERVED.iter().rev() {
        out = out.replace(e, &c.to_string());
    }
    out
}

impl GrantId {
    /// `CATALOG|PRINCIPAL|KEY=V1,V2;KEY2=V3`, keys and values sorted; `%`, `|`, `;`, `=` and
    /// `,` inside keys and values are percent-escaped.
    pub fn render(&self) -> String {
        let expr: Vec<String> = self
            .expression
            .iter()
            .map(|(k, vs)| {
                let vs: Vec<String> = vs.iter().map(|v| escape(v)).collect();
                format!("{}={}", escape(k), vs.join(","))
            })
            .collect();
        format!("{}|{}|{}", self.catalog_id, self.principal, expr.join(";"))
    }

    /// Parses [`GrantId::render`]'s format.
    pub fn parse(id: &str) -> Result<Self, String> {
        let parts: Vec<&str> = id.splitn(3, '|').collect();
        let [catalog, principal, expr] = parts.as_slice() else {
            return Err(format!(
                "{id:?} is not CATALOG|PRINCIPAL|KEY=VALUE,VALUE;KEY=VALUE."
            ));
        };
        if !is_account_id(catalog) {
            return Err(format!(
                "{catalog:?} (before the first `|`) is not a 12-digit catalog id."
            ));
        }
        if let Some(p) = check_principal(principal) {
            return Err(p);
        }
        let mut expression = Expression::new();
        for clause in expr.split(';') {
            let Some((k, vs)) = clause.split_once('=') else {
                return Err(format!("{clause:?} is not KEY=VALUE,VALUE."));
            };
            let values: BTreeSet<String> = vs.split(',').map(unescape).collect();
            if values.iter().any(String::is_empty) {
                return Err(format!("{clause:?} has an empty value."));
            }
            let key = unescape(k);
            if let Some(p) = check_key(&key) {
                return Err(p);
            }
            if expression.insert(key.clone(), values).is_some() {
                return Err(format!("The key {key:?} appears twice."));
            }
        }
        Ok(Self {
            catalog_id: catalog.to_string(),
            principal: principal.to_string(),
            expression,
        })
    }
}

pub(super) fn expression_validator() -> Validator {
    Validator::new("LF-tag expression", |v, path, diags| {
        let Value::Map(m) = v else { return };
        if m.is_empty() {
            diags.error_at(
                path.clone(),
                "Empty expression",
                "The expression must name at least one LF-tag key with its values.",
            );
        }
        for (k, vals) in m {
            let at = path.then_key(k.clone());
            if let Some(p) = check_key(k) {
                diags.error_at(at.clone(), "Invalid LF-tag key", p);
            }
            match vals {
                Value::Set(items) | Value::List(items) => {
                    if items.is_empty() {
                        diags.error_at(
                            at.clone(),
                            "No values",
                            format!("The LF-tag {k:?} must list at least one value."),
                        );
                    }
                    for item in items {
                        if let Value::String(s) = item {
                            if let Some(p) = check_value(s) {
                                diags.error_at(at.clone(), "Invalid LF-tag value", p);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    })
}

/// What the user declared: everything the grant operations need, from a model whose values
/// are known.
#[derive(Debug, Clone)]
pub struct Spec {
    pub(super) catalog_id: String,
    pub(super) principal: String,
    pub(super) expression: Expression,
    pub(super) table: BTreeSet<String>,
    pub(super) database: BTreeSet<String>,
    pub(super) grantable: BTreeSet<String>,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        Ok(Self {
            catalog_id: known(&m.catalog_id, "catalog_id")?.clone(),
            principal: known(&m.principal, "principal")?.clone(),
            expression: known(&m.expression, "expression")?.clone(),
            table: known(&m.table_permissions, "table_permissions")?.clone(),
            database: known(&m.database_permissions, "database_permissions")?.clone(),
            grantable: m.grantable_permissions.known().cloned().unwrap_or_default(),
        })
    }

    /// The grant `id` names with the permissions `prior` declares (none when unknown).
    pub(super) fn of_id(id: &GrantId, prior: &Model) -> Self {
        let perms = |a: &Attr<BTreeSet<String>>| a.known().cloned().unwrap_or_default();
        Self {
            catalog_id: id.catalog_id.clone(),
            principal: id.principal.clone(),
            expression: id.expression.clone(),
            table: perms(&prior.table_permissions),
            database: perms(&prior.database_permissions),
            grantable: perms(&prior.grantable_permissions),
        }
    }

    pub(super) fn id(&self) -> String {
        GrantId {
            catalog_id: self.catalog_id.clone(),
            principal: self.principal.clone(),
            expression: self.expression.clone(),
        }
        .render()
    }

    pub(super) fn target(&self, kind: PolicyKind) -> Target {
        Target::TagPolicy {
            catalog_id: self.catalog_id.clone(),
            kind,
            expression: self.expression.clone(),
        }
    }

    /// The two policy grants (either left out when it has no permissions).
    pub(super) fn grants(&self) -> Vec<Grant> {
        [
            (PolicyKind::Database, &self.database),
            (PolicyKind::Table, &self.table),
        ]
        .into_iter()
        .filter(|(_, perms)| !perms.is_empty())
        .map(|(kind, perms)| Grant {
            principal: self.principal.clone(),
            target: self.target(kind),
            permissions: perms.clone(),
            grantable: self.grantable.intersection(perms).cloned().collect(),
        })
        .collect()
    }

    /// The model for what `owned` shows exists of this spec's grants.
    pub(super) fn state(&self, owned: &[Grant], import: bool) -> Model {
        let of = |kind: PolicyKind| owned.iter().find(|g| g.target == self.target(kind));
        let perms = |kind| of(kind).map(|g| g.permissions.clone()).unwrap_or_default();
        let grantable: BTreeSet<String> = if import {
            owned
                .iter()
                .flat_map(|g| g.grantable.iter().cloned())
                .collect()
        } else {
            // Grantable as declared only where every grant that carries the permission still
            // has its grant option; otherwise the plan shows it missing and apply restores it.
            self.grantable
                .iter()
                .filter(|p| {
                    [PolicyKind::Database, PolicyKind::Table]
                        .into_iter()
                        .filter(|k| match k {
                            PolicyKind::Database => self.database.contains(*p),
                            PolicyKind::Table => self.table.contains(*p),
                        })
                        .all(|k| of(k).is_some_and(|g| g.grantable.contains(*p)))
                })
                .cloned()
                .collect()
        };
        Model {
            id: Attr::Known(self.id()),
            principal: Attr::Known(self.principal.clone()),
            expression: Attr::Known(self.expression.clone()),
            table_permissions: Attr::Known(perms(PolicyKind::Table)),
            database_permissions: Attr::Known(perms(PolicyKind::Database)),
            grantable_permissions: Attr::Known(grantable),
            catalog_id: Attr::Known(self.catalog_id.clone()),
        }
    }
}

pub(super) fn tag_uses(expression: &Expression) -> Vec<TagUse> {
    expression
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter().map(move |v| TagUse {
                path: AttributePath::attr("expression").then_key(k.clone()),
                key: k.clone(),
                value: v.clone(),
            })
        })
        .collect()
}

/// Checks the expression against the catalog's LF-tags: an unknown key or value is an error. At
/// plan time the LF-tags this provider has planned count as defined (see
/// [`ontology::PlannedTags`]); at apply only what the catalog holds counts.
pub(super) async fn check_expression(
    client: &Mesh,
    catalog: &str,
    expression: &Expression,
    at_plan: bool,
) -> Result<(), Diagnostics> {
    let mut o = Ontology::load_catalog(client, Some(catalog))
        .await
        .map_err(|e| aws_diag(Action::List, "LF-tags to check the expression", &e))?;
    if at_plan {
        o = o.with_planned(client.planned_tags(), catalog);
    }
    let problems = o.check(&tag_uses(expression), true);
    if problems.has_errors() {
        Err(problems)
    } else {
        Ok(())
    }
}

pub(super) fn all_permissions() -> BTreeSet<String> {
    TABLE_PERMISSIONS
        .iter()
        .chain(DATABASE_PERMISSIONS)
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_round_trip_sorted_and_escaped() {
        let id = GrantId {
            catalog_id: "111111111111".into(),
            principal: "arn:aws:iam::111111111111:role/Analytics".into(),
            expression: BTreeMap::from([
                ("sensitivity".into(), set(&["public", "internal"])),
                ("domain".into(), set(&["commerce"])),
                ("odd=key".into(), set(&["a,b", "100%"])),
            ]),
        };
        let text = id.render();
        assert_eq!(
            text,
            "111111111111|arn:aws:iam::111111111111:role/Analytics|domain=commerce;odd%3Dkey=100%25,a%2Cb;sensitivity=internal,public"
        );
        assert_eq!(GrantId::parse(&text).unwrap(), id);
        // Any order parses to the same grant.
        let shuffled = "111111111111|arn:aws:iam::111111111111:role/Analytics|sensitivity=public,internal;domain=commerce;odd%3Dkey=a%2Cb,100%25";
        assert_eq!(GrantId::parse(shuffled).unwrap(), id);
    }

    #[test]
    fn bad_ids_say_why() {
        assert!(GrantId::parse("nonsense").is_err());
        assert!(GrantId::parse("1234|123456789012|k=v").is_err());
        assert!(GrantId::parse("111111111111|nobody|k=v").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=a;k=b").is_err());
        assert!(GrantId::parse("111111111111|123456789012|k=a;j=b").is_ok());
    }

    #[test]
    fn grants_split_grant_options_by_kind() {
        let spec = Spec {
            catalog_id: "111111111111".into(),
            principal: "123456789012".into(),
            expression: BTreeMap::from([("domain".into(), set(&["commerce"]))]),
            table: set(&["SELECT", "DESCRIBE"]),
            database: set(&["DESCRIBE"]),
            grantable: set(&["SELECT"]),
        };
        let g = spec.grants();
        assert_eq!(g.len(), 2);
        assert!(g[0].grantable.is_empty());
        assert_eq!(g[1].grantable, set(&["SELECT"]));
        // Read back exactly what was granted: the same model.
        let state = spec.state(&g, false);
        assert_eq!(
            state.table_permissions,
            Attr::Known(set(&["SELECT", "DESCRIBE"]))
        );
        assert_eq!(state.grantable_permissions, Attr::Known(set(&["SELECT"])));
        // No database permissions: one grant only.
        let spec = Spec {
            database: BTreeSet::new(),
            ..spec
        };
        assert_eq!(spec.grants().len(), 1);
    }

    #[test]
    fn flatten_counts_everything_found_on_import_and_only_the_declared_otherwise() {
        let id = GrantId {
            catalog_id: "111111111111".into(),
            principal: "123456789012".into(),
            expression: BTreeMap::from([("domain".into(), set(&["commerce"]))]),
        };
        let everything = Spec {
            table: set(&["SELECT", "DESCRIBE"]),
            database: set(&["DESCRIBE"]),
            grantable: set(&["DESCRIBE"]),
            ..Spec::of_id(&id, &Model::default())
        };
        let found = everything.grants();
        // Import: nothing declared yet, so every permission and grant option found counts.
        let imported = Spec::of_id(&id, &Model::default()).state(&found, true);
        assert_eq!(
            imported.table_permissions,
            Attr::Known(set(&["SELECT", "DESCRIBE"]))
        );
        assert_eq!(
            imported.grantable_permissions,
            Attr::Known(set(&["DESCRIBE"]))
        );
        assert_eq!(imported.id, Attr::Known(id.render()));
        // Declared without grant options: a grant option found is not this resource's.
        let prior = Model {
            table_permissions: Attr::Known(set(&["SELECT", "DESCRIBE"])),
            database_permissions: Attr::Known(set(&["DESCRIBE"])),
            grantable_permissions: Attr::Known(BTreeSet::new()),
            ..Model::default()
        };
        let read = Spec::of_id(&id, &prior).state(&found, false);
        assert_eq!(read.grantable_permissions, Attr::Known(BTreeSet::new()));
        assert_eq!(read.database_permissions, Attr::Known(set(&["DESCRIBE"])));
    }
}
