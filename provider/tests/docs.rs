//! The committed registry docs under `docs/` are rendered from the schemas and the examples.
//! Refresh them with `MESH_UPDATE_DOCS=1 cargo test -p terraform-provider-mesh --test docs`.

use mesh_provider::framework::docs::{render, PageKind};
use mesh_provider::framework::server::Provider;
use mesh_provider::provider::{data_sources, resources, MeshProvider};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn check(path: PathBuf, expected: String, stale: &mut Vec<String>) {
    if std::env::var_os("MESH_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().expect("docs path has a parent"))
            .expect("create docs dir");
        std::fs::write(&path, &expected).expect("write docs");
    } else if read(&path).as_deref() != Some(expected.as_str()) {
        stale.push(path.display().to_string());
    }
}

#[test]
fn docs_are_rendered_from_the_schemas() {
    let root = repo();
    let mut stale = Vec::new();
    let provider_page = render(
        PageKind::Provider,
        "mesh",
        &MeshProvider.schema(),
        read(&root.join("examples/provider/provider.tf")).as_deref(),
        None,
    );
    check(root.join("docs/index.md"), provider_page, &mut stale);
    for resource in resources() {
        let name = resource.type_name();
        let short = name.trim_start_matches("mesh_");
        let examples = root.join("examples/resources").join(name);
        let example = read(&examples.join("resource.tf"));
        let import = read(&examples.join("import.sh"));
        assert!(
            example.is_some(),
            "{name} has no examples/resources/{name}/resource.tf"
        );
        assert!(
            import.is_some(),
            "{name} has no examples/resources/{name}/import.sh"
        );
        assert!(
            !resource.schema().block.description.trim().is_empty(),
            "{name} has no description"
        );
        let page = render(
            PageKind::Resource,
            name,
            resource.schema(),
            example.as_deref(),
            import.as_deref(),
        );
        check(
            root.join("docs/resources").join(format!("{short}.md")),
            page,
            &mut stale,
        );
    }
    for source in data_sources() {
        let name = source.type_name();
        let short = name.trim_start_matches("mesh_");
        let example = read(
            &root
                .join("examples/data-sources")
                .join(name)
                .join("data-source.tf"),
        );
        assert!(
            example.is_some(),
            "{name} has no examples/data-sources/{name}/data-source.tf"
        );
        assert!(
            !source.schema().block.description.trim().is_empty(),
            "{name} has no description"
        );
        let page = render(
            PageKind::DataSource,
            name,
            source.schema(),
            example.as_deref(),
            None,
        );
        check(
            root.join("docs/data-sources").join(format!("{short}.md")),
            page,
            &mut stale,
        );
    }
    assert!(
        stale.is_empty(),
        "docs are out of date with the schemas: {stale:?}\nrefresh with MESH_UPDATE_DOCS=1 cargo test -p terraform-provider-mesh --test docs"
    );
}
