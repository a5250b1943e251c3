//! Publishing module versions: immutable zips plus an index, in a directory or in S3.
//!
//! # Store layout
//!
//! A store is a local directory (`--to DIR`) or `s3://BUCKET/PREFIX`. It holds
//!
//! - `<prefix>/<module>/<version>.zip`: the module folder's files, paths relative to the module
//!   root, without `.terraform/` folders, `*.tfstate*` files or `.terraform.lock.hcl`. The zip is
//!   deterministic (entries sorted, fixed timestamps and permissions), so the same content always
//!   gives the same bytes and the same sha256.
//! - `<prefix>/index.json`: every module's published versions (semver order) with the sha256 of
//!   each zip; written with sorted keys so it diffs cleanly.
//!
//! The index's `file` of each entry is checked to be exactly `<module>/<version>.zip` when the
//! index is read, and zips are always located from the module and version, so a tampered index
//! cannot point outside the store.
//!
//! A published version is never overwritten: `publish` refuses when the zip exists with other
//! content. In S3 it checks with HEAD first and then uploads with `If-None-Match: *`, because
//! emulators may ignore the condition while real S3 enforces it against a concurrent publisher.
//!
//! # What gets published
//!
//! Each module's version is the top entry of its CHANGELOG.md (written by `release`). Before
//! anything is uploaded, every module is checked:
//!
//! - Its version is already in the index. With the same content (the sha256 of the deterministic
//!   zip), and modules not named with `--module`, it is skipped ("already published"), so
//!   `publish` works after a `release` of only some modules; otherwise it is refused (a named
//!   module, or content that would overwrite the published one). When every module is skipped
//!   there is nothing to publish, and that is an error too, so publishing the same versions twice
//!   fails.
//! - It is newer than the store's latest, and its step from it (major, minor, patch) is at least
//!   the bump that the changes since need, by the comparison `release` makes: a module changed
//!   after its release is refused ("changes since 1.0.0 need a MAJOR release (...); run
//!   `mesh-modules release` again"). A bigger step than needed is allowed.
//!
//! # Terraform sources
//!
//! Terraform 1.0.3 downloads modules with go-getter v1.5.2, whose S3 getter (`get_s3.go`,
//! `parseUrl`/`getAWSConfig`) reads the URL after `s3::` like this (each point checked by running
//! `terraform init` of Terraform 1.0.3 against such sources):
//!
//! - A host ending in `.amazonaws.com` is only parsed, never contacted: the bucket and region are
//!   taken from it and the AWS SDK then uses its standard endpoint, with credentials from the
//!   usual chain (environment, shared files, instance role). Three host parts are path-style,
//!   `s3-<region>.amazonaws.com/<bucket>/<key>` (or `s3.amazonaws.com/...` for us-east-1); four
//!   or five parts are virtual-hosted, `<bucket>.s3[-.]<region>.amazonaws.com/<key>`. So
//!   `s3::https://s3.<region>.amazonaws.com/<bucket>/<key>` is misread as bucket `s3`; `publish`
//!   prints `s3::https://s3-<region>.amazonaws.com/<bucket>/<key>`, which works for every
//!   region because the host is not contacted.
//! - Any other host is an S3-compatible service: the path is `/<bucket>/<key>`, the region comes
//!   from a `region` query parameter (default us-east-1). The host is used as the endpoint
//!   (path-style, and `http://` turns TLS off) only when the URL carries credentials, in the
//!   `aws_access_key_id`, `aws_access_key_secret` (sic) and optional `aws_access_token` query
//!   parameters; without them the getter silently goes to AWS (`https://<bucket>.s3.amazonaws.com`)
//!   with the environment's credentials. So a source for an emulator is
//!   `s3::http://127.0.0.1:PORT/<bucket>/<key>?aws_access_key_id=ID&aws_access_key_secret=SECRET`
//!   (plus `&region=R` when not us-east-1); see [`s3_source`]. `publish` prints it with
//!   placeholders rather than echo a secret.
//! - A directory store's zip is consumed by its absolute path (`source = "/abs/store/m/1.0.0.zip"`):
//!   go-getter's file detector makes it a `file://` URL and unpacks the `.zip`. (`./` and `../`
//!   sources are Terraform local modules and are not unpacked.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use semver::Version;

use crate::release;
pub use crate::store::*;

/// Arguments of `mesh-modules publish`.
#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// Where to publish: a local directory, or s3://BUCKET/PREFIX (the bucket must exist).
    #[arg(long, value_name = "STORE")]
    pub to: String,
    /// The folder holding one subfolder per module.
    #[arg(long, value_name = "DIR", default_value = "modules")]
    pub modules: PathBuf,
    /// Publish only this module (repeatable); default: every module.
    #[arg(long = "module", value_name = "NAME")]
    pub module: Vec<String>,
    /// S3 endpoint URL, for an emulator or S3-compatible service (default: $AWS_ENDPOINT_URL,
    /// else AWS).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// AWS region of the bucket (default: the AWS configuration chain, else us-east-1).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

/// What `publish` does with one module.
enum Action {
    /// Upload the zip and add it to the index.
    Upload,
    /// The zip is in the store with the same content but missing from the index (an earlier
    /// publish stopped between the two): only add it to the index.
    IndexOnly,
    /// The version is published with the same content: nothing to do.
    Skip,
}

/// Runs `publish`: uploads each selected module's current version (the first version heading
/// of its CHANGELOG.md) and updates the index.
///
/// Every module is checked before anything is uploaded: its version must not be published yet
/// (never overwritten), must be newer than the store's latest, and its step from the store's
/// latest must be at least what the changes since need (the comparison `release` makes). Without
/// `--module`, a module whose version is already published with the same content (the same
/// sha256 of the deterministic zip) is skipped, so publishing after releasing only some modules
/// works; when every module is skipped there is nothing to publish, which is an error.
pub fn run(args: &PublishArgs) -> Result<(), String> {
    let modules = select_modules(&args.modules, &args.module)?;
    let explicit = !args.module.is_empty();
    // Everything local is checked before the store is touched, so a bad module publishes nothing.
    let mut releases = Vec::new();
    for (name, dir) in &modules {
        let version = release::current_version(dir)?.ok_or_else(|| {
            format!(
                "module {name}: never released (no CHANGELOG.md); run `mesh-modules release` first"
            )
        })?;
        let files = module_files(dir)?;
        let zip = zip_files(&files)?;
        releases.push((name.clone(), version, files, zip));
    }
    block_on(async {
        let store = Store::open(&args.to, args.endpoint.as_deref(), args.region.as_deref()).await?;
        store.require_exists().await?;
        let mut index = store.read_index().await?;
        let mut actions = Vec::new();
        let mut errors = Vec::new();
        for (name, version, files, zip) in &releases {
            match check_publishable(&store, &index, name, version, files, zip, explicit).await {
                Ok(action) => actions.push(action),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(format!("nothing published:\n  {}", errors.join("\n  ")));
        }
        if actions.iter().all(|a| matches!(a, Action::Skip)) {
            return Err(
                "nothing to publish: every module's version is already published (run \
                 `mesh-modules release` after changing a module)"
                    .to_string(),
            );
        }
        for ((name, version, _, zip), action) in releases.iter().zip(&actions) {
            let key = zip_key(name, version);
            match action {
                Action::Skip => {
                    println!("{name} {version}: already published");
                    continue;
                }
                Action::IndexOnly => {}
                Action::Upload => match store.put_new(&key, zip).await? {
                    PutOutcome::Written => {}
                    PutOutcome::AlreadyExists => {
                        return Err(already_published(&store, name, version))
                    }
                },
            }
            index.add(name, version, &key, &sha256_hex(zip));
            // Written after each zip so a failure later leaves an index true to what is stored.
            store.write_index(&index).await?;
            println!("published {name} {version}");
            println!("  object: {}", store.object_url(&key));
            println!("  source: {}", store.terraform_source(&key));
        }
        println!("index: {}", store.object_url(INDEX_KEY));
        if let Some(hint) = store.source_hint() {
            println!("{hint}");
        }
        Ok(())
    })
}

/// Decides what to do with one module (see [`run`]), or why it cannot be published.
async fn check_publishable(
    store: &Store,
    index: &Index,
    name: &str,
    version: &Version,
    files: &BTreeMap<String, Vec<u8>>,
    zip: &[u8],
    explicit: bool,
) -> Result<Action, String> {
    let sha256 = sha256_hex(zip);
    if let Some(entry) = index.entry(name, version) {
        let same = entry.sha256 == sha256;
        if same && !explicit {
            return Ok(Action::Skip);
        }
        let detail = if same {
            "it has the same content, so there is nothing to publish"
        } else {
            "its content differs and would be overwritten, so run `mesh-modules release` to cut \
             a new version"
        };
        return Err(format!(
            "{}: {detail}",
            already_published(store, name, version)
        ));
    }
    let key = zip_key(name, version);
    let unindexed = match store.get(&key).await? {
        Some(existing) if existing == zip => true,
        Some(_) => {
            return Err(format!(
                "{}: its content differs and would be overwritten, so run `mesh-modules \
                 release` to cut a new version",
                already_published(store, name, version)
            ))
        }
        None => false,
    };
    if let Some((latest, change)) =
        release::changes_since_published(store, index, name, files).await?
    {
        if latest >= *version {
            return Err(format!(
                "module {name}: {} already has {latest}, newer than {version} in CHANGELOG.md; \
                 update the working copy",
                store.describe()
            ));
        }
        if let Some(change) = change {
            if latest.pre.is_empty() && step(&latest, version) < Some(change.bump) {
                return Err(format!(
                    "{name}: changes since {latest} need a {} release ({}); run `mesh-modules \
                     release` again (CHANGELOG.md is at {version})",
                    change.bump.to_string().to_uppercase(),
                    change.decisive_reasons().join("; ")
                ));
            }
        }
    }
    Ok(if unindexed {
        Action::IndexOnly
    } else {
        Action::Upload
    })
}

/// How far `to` moves from `from`: the most significant of major, minor and patch that grew;
/// `None` when they are equal (only a pre-release or build part differs) or `to` is lower.
fn step(from: &Version, to: &Version) -> Option<release::Bump> {
    use std::cmp::Ordering::{Equal, Greater};
    match (
        to.major.cmp(&from.major),
        to.minor.cmp(&from.minor),
        to.patch.cmp(&from.patch),
    ) {
        (Greater, _, _) => Some(release::Bump::Major),
        (Equal, Greater, _) => Some(release::Bump::Minor),
        (Equal, Equal, Greater) => Some(release::Bump::Patch),
        _ => None,
    }
}

fn already_published(store: &Store, name: &str, version: &Version) -> String {
    format!(
        "module {name} version {version} is already published at {} and published versions are \
         never overwritten",
        store.object_url(&zip_key(name, version))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_steps() {
        use release::Bump;
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(step(&v("1.2.3"), &v("2.0.0")), Some(Bump::Major));
        assert_eq!(step(&v("1.2.3"), &v("1.3.0")), Some(Bump::Minor));
        assert_eq!(step(&v("1.2.3"), &v("1.2.4")), Some(Bump::Patch));
        assert_eq!(step(&v("1.2.3"), &v("1.2.3")), None);
        assert_eq!(step(&v("1.2.3"), &v("1.2.2")), None);
        assert!(step(&v("1.2.3"), &v("1.2.4")) < Some(Bump::Minor));
        assert!(None < Some(Bump::Patch));
    }
}
