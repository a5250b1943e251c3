//! Registry-style markdown docs rendered from schemas, so the docs say exactly what the schema
//! says. `provider/tests/docs.rs` keeps the committed `docs/` in step with them.

use super::schema::{Attribute, Block, NestedBlock, Nesting, Schema};
use super::value::Type;
use std::fmt::Write;

/// What a page is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// The provider's index page.
    Provider,
    /// A managed resource.
    Resource,
    /// A data source.
    DataSource,
}

/// Renders one page: front matter, description, example, arguments, attributes, import.
pub fn render(
    kind: PageKind,
    name: &str,
    schema: &Schema,
    example: Option<&str>,
    import: Option<&str>,
) -> String {
    let mut out = String::new();
    let subcategory = match kind {
        PageKind::Provider => "",
        PageKind::Resource | PageKind::DataSource => "\nsubcategory: \"\"",
    };
    let title = match kind {
        PageKind::Provider => "Provider: mesh".to_string(),
        PageKind::Resource => format!("{name} Resource - terraform-provider-mesh"),
        PageKind::DataSource => format!("{name} Data Source - terraform-provider-mesh"),
    };
    let _ = writeln!(
        out,
        "---\npage_title: \"{title}\"{subcategory}\ndescription: |-\n  {}\n---\n",
        first_sentence(&schema.block.description)
    );
    let heading = match kind {
        PageKind::Provider => "mesh Provider".to_string(),
        PageKind::Resource => format!("{name} (Resource)"),
        PageKind::DataSource => format!("{name} (Data Source)"),
    };
    let _ = writeln!(out, "# {heading}\n\n{}\n", schema.block.description.trim());
    if let Some(example) = example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            example.trim()
        );
    }
    let _ = writeln!(out, "## Schema\n");
    render_block(&mut out, &schema.block, "");
    if let Some(import) = import {
        let _ = writeln!(
            out,
            "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```",
            import.trim()
        );
    }
    out
}

fn first_sentence(text: &str) -> String {
    let text = text
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace('\n', " ");
    match text.find(". ") {
        Some(i) => text[..=i].to_string(),
        None => text,
    }
}

fn render_block(out: &mut String, block: &Block, anchor: &str) {
    type Select = fn(&Attribute) -> bool;
    let groups: [(&str, Select); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    for (title, select) in groups {
        let attrs: Vec<_> = block.attributes.iter().filter(|a| select(a)).collect();
        let blocks: Vec<_> = block
            .blocks
            .iter()
            .filter(|b| match title {
                "Required" => b.min_items > 0,
                "Optional" => b.min_items == 0,
                _ => false,
            })
            .collect();
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for a in attrs {
            let mut notes = vec![type_name(&a.ty)];
            if a.sensitive {
                notes.push("Sensitive".into());
            }
            if a.requires_replace {
                notes.push("Forces replacement".into());
            }
            let _ = writeln!(
                out,
                "- `{}` ({}) {}",
                a.name,
                notes.join(", "),
                a.description.trim()
            );
        }
        for b in &blocks {
            let nesting = nesting_name(b);
            let label = if nesting.is_empty() {
                "Block".to_string()
            } else {
                format!("Block {nesting}")
            };
            let _ = writeln!(
                out,
                "- `{}` ({label}) {} (see [below for nested schema](#nestedblock--{anchor}{}))",
                b.type_name,
                b.block.description.trim(),
                b.type_name
            );
        }
        let _ = writeln!(out);
    }
    for b in &block.blocks {
        let _ = writeln!(
            out,
            "<a id=\"nestedblock--{anchor}{}\"></a>\n### Nested Schema for `{anchor}{}`\n",
            b.type_name, b.type_name
        );
        render_block(out, &b.block, &format!("{anchor}{}--", b.type_name));
    }
}

fn nesting_name(b: &NestedBlock) -> String {
    let base = match b.nesting {
        Nesting::Single | Nesting::Group => "",
        Nesting::List => "List",
        Nesting::Set => "Set",
        Nesting::Map => "Map",
    };
    match (b.nesting, b.max_items) {
        (Nesting::Single | Nesting::Group, _) => "".into(),
        (_, 0) => format!("{base}, Min: {}", b.min_items),
        (_, max) => format!("{base}, Min: {}, Max: {max}", b.min_items),
    }
    .trim_start_matches(", ")
    .to_string()
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".into(),
        Type::Number => "Number".into(),
        Type::String => "String".into(),
        Type::Dynamic => "Dynamic".into(),
        Type::List(e) => format!("List of {}", type_name(e)),
        Type::Set(e) => format!("Set of {}", type_name(e)),
        Type::Map(e) => format!("Map of {}", type_name(e)),
        Type::Object { .. } => "Object".into(),
        Type::Tuple(_) => "Tuple".into(),
    }
}
