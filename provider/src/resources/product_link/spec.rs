//! A link's id, what the user declared ([`Spec`]), where a link points, what Glue holds ([`Found`]), and the pure flatten to state.

use super::*;
use crate::resources::Action;

/// What the user declared: the link's coordinates and target, all known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub(super) database: String,
    pub(super) name: String,
    pub(super) target: Target,
}

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub(super) catalog_id: String,
    pub(super) database: String,
    pub(super) table: String,
}

impl Spec {
    pub(super) fn from(m: &Model) -> Result<Self, Diagnostics> {
        let source = known(&m.source, "source")?;
        Ok(Self {
            database: known(&m.database, "database")?.clone(),
            name: known(&m.name, "name")?.clone(),
            target: Target {
                catalog_id: known(&source.catalog_id, "source.catalog_id")?.clone(),
                database: known(&source.database, "source.database")?.clone(),
                table: known(&source.table, "source.table")?.clone(),
            },
        })
    }

    pub(super) fn id(&self) -> String {
        format!("{}/{}", self.database, self.name)
    }

    pub(super) fn state(&self, catalog_id: &str) -> Model {
        Model {
            id: Attr::Known(self.id()),
            source: Attr::Known(Source {
                catalog_id: Attr::Known(self.target.catalog_id.clone()),
                database: Attr::Known(self.target.database.clone()),
                table: Attr::Known(self.target.table.clone()),
            }),
            database: Attr::Known(self.database.clone()),
            name: Attr::Known(self.name.clone()),
            catalog_id: Attr::Known(catalog_id.to_string()),
        }
    }

    pub(super) fn table_input(&self) -> Result<TableInput, Diagnostics> {
        TableInput::builder()
            .name(&self.name)
            .target_table(
                TableIdentifier::builder()
                    .catalog_id(&self.target.catalog_id)
                    .database_name(&self.target.database)
                    .name(&self.target.table)
                    .build(),
            )
            .build()
            .map_err(|e| Diagnostic::provider_bug(e).into())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}.{}", self.catalog_id, self.database, self.table)
    }
}

/// The target of a Glue table, when it is a resource link.
pub(super) fn target_of(table: &Table) -> Option<Target> {
    let t = table.target_table.as_ref()?;
    Some(Target {
        catalog_id: t.catalog_id.clone().unwrap_or_default(),
        database: t.database_name.clone().unwrap_or_default(),
        table: t.name.clone().unwrap_or_default(),
    })
}

/// A link's id: `<database>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkId {
    /// The local database.
    pub database: String,
    /// The link's name.
    pub name: String,
}

impl std::fmt::Display for LinkId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.database, self.name)
    }
}

/// Parses an import id `<database>/<name>`.
pub fn parse_id(id: &str) -> Result<(String, String), String> {
    let Some((database, name)) = id.split_once('/') else {
        return Err(format!(
            "{id:?} is not <database>/<name> (the local database and the link's name)."
        ));
    };
    for part in [database, name] {
        if let Some(problem) = check_glue_name(part) {
            return Err(problem);
        }
    }
    Ok((database.to_string(), name.to_string()))
}

pub(super) fn name_validator() -> Validator {
    Validator::string("Glue name rules", "Invalid name", check_glue_name)
}

/// What a table lookup found.
pub(super) enum Lookup {
    /// No table (or no database) by that name.
    Gone,
    /// A resource link, pointing at the target, in this catalog.
    Link(Target, String),
    /// A table that is not a resource link.
    NotALink,
}

/// A resource link as Glue holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub(super) target: Target,
    /// The catalog holding the link.
    pub(super) catalog_id: String,
}

/// The state of link `id`.
pub(super) fn flatten(id: &LinkId, found: Found) -> Model {
    Spec {
        database: id.database.clone(),
        name: id.name.clone(),
        target: found.target,
    }
    .state(&found.catalog_id)
}

pub(super) fn already_exists(spec: &Spec, e: &AwsError) -> Diagnostics {
    let mut diags = aws_diag(
        Action::Create,
        format!("resource link {}.{}", spec.database, spec.name),
        e,
    );
    diags.push(Diagnostic::error(
        "A table by that name already exists",
        format!(
            "{}.{} exists and is not a link to {}. If it is a link this configuration should manage, import it: terraform import <address> {}",
            spec.database,
            spec.name,
            spec.target,
            spec.id()
        ),
    ));
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse() {
        assert_eq!(
            parse_id("shared_products/orders").unwrap(),
            ("shared_products".to_string(), "orders".to_string())
        );
        assert!(parse_id("orders").is_err());
        assert!(parse_id("/orders").is_err());
        assert!(parse_id("db/").is_err());
        assert!(parse_id("db/a/b").is_err());
        assert!(parse_id("DB/orders").unwrap_err().contains("lower case"));
    }

    #[test]
    fn glue_names() {
        assert!(check_glue_name("commerce_products").is_none());
        assert!(check_glue_name("orders-2024").is_none());
        assert!(check_glue_name("").is_some());
        assert!(check_glue_name(&"a".repeat(256)).is_some());
        assert!(check_glue_name("Orders").unwrap().contains("\"orders\""));
        assert!(check_glue_name("a/b").is_some());
        assert!(check_glue_name("a\nb").is_some());
    }

    #[test]
    fn links_become_state_and_tables_are_refused() {
        let target = Target {
            catalog_id: "444455556666".into(),
            database: "commerce_products".into(),
            table: "orders".into(),
        };
        let id = LinkId {
            database: "shared".into(),
            name: "orders".into(),
        };
        let found = ProductLink::link(&id, Lookup::Link(target.clone(), "777788889999".into()))
            .unwrap()
            .unwrap();
        let state = flatten(&id, found);
        assert_eq!(state.id, Attr::Known("shared/orders".into()));
        assert_eq!(state.catalog_id, Attr::Known("777788889999".into()));
        assert_eq!(
            Spec::from(&state).unwrap().target,
            target,
            "source carries the link's target"
        );
        assert!(ProductLink::link(&id, Lookup::Gone).unwrap().is_none());
        assert!(ProductLink::link(&id, Lookup::NotALink).is_err());
    }

    #[test]
    fn table_input_names_the_target() {
        let spec = Spec {
            database: "shared".into(),
            name: "orders".into(),
            target: Target {
                catalog_id: "444455556666".into(),
                database: "commerce_products".into(),
                table: "orders".into(),
            },
        };
        let input = spec.table_input().unwrap();
        let t = input.target_table.unwrap();
        assert_eq!(t.catalog_id.as_deref(), Some("444455556666"));
        assert_eq!(t.database_name.as_deref(), Some("commerce_products"));
        assert_eq!(t.name.as_deref(), Some("orders"));
    }
}
