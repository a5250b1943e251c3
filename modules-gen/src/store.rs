//! Where module versions are kept: a directory or an S3 prefix holding immutable
//! `<module>/<version>.zip` files and an `index.json`; the deterministic zips themselves; and the
//! module files they are made of. Both `release` (what was published) and `publish` (what to
//! upload) read it; it knows neither.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use semver::Version;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Whether `name` is one plain path component (no separator, not `.` or `..`, not empty), as
/// module names are.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Checks that a store-relative key stays inside the store: relative, `/`-separated plain
/// components.
fn check_key(key: &str) -> Result<(), String> {
    if key.split('/').all(is_plain_name) {
        Ok(())
    } else {
        Err(format!(
            "refusing the store key {key:?}: it would leave the store (a mesh-modules bug or a \
             tampered index)"
        ))
    }
}

/// The store-relative key of a module version's zip: `<module>/<version>.zip`.
pub fn zip_key(module: &str, version: &Version) -> String {
    format!("{module}/{version}.zip")
}

/// The store-relative key of the index.
pub const INDEX_KEY: &str = "index.json";

/// Runs a future on a small runtime: the CLI is synchronous and each command makes a handful of
/// requests.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(future),
        Err(e) => {
            // Without a runtime nothing can run; this is an environment fault, not user input.
            eprintln!("mesh-modules: cannot start the async runtime: {e}");
            std::process::exit(1)
        }
    }
}

// ----- modules and their files -------------------------------------------------------------

/// The modules under `modules_dir` (subfolders holding `.tf` files), sorted by name, or only the
/// `selected` ones (an error names any that does not exist).
pub fn select_modules(
    modules_dir: &Path,
    selected: &[String],
) -> Result<Vec<(String, PathBuf)>, String> {
    let entries = std::fs::read_dir(modules_dir)
        .map_err(|e| format!("modules folder {}: {e}", modules_dir.display()))?;
    let mut all = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", modules_dir.display()))?;
        let path = entry.path();
        if path.is_dir() && has_tf_files(&path)? {
            all.insert(entry.file_name().to_string_lossy().into_owned(), path);
        }
    }
    if selected.is_empty() {
        if all.is_empty() {
            return Err(format!(
                "no modules in {} (no subfolder holds .tf files)",
                modules_dir.display()
            ));
        }
        return Ok(all.into_iter().collect());
    }
    let mut chosen = BTreeMap::new();
    for name in selected {
        let path = all.get(name).ok_or_else(|| {
            let known: Vec<&str> = all.keys().map(String::as_str).collect();
            format!(
                "no module {name:?} in {} (modules: {})",
                modules_dir.display(),
                known.join(", ")
            )
        })?;
        chosen.insert(name.clone(), path.clone());
    }
    Ok(chosen.into_iter().collect())
}

fn has_tf_files(dir: &Path) -> Result<bool, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        if entry.file_name().to_string_lossy().ends_with(".tf") && entry.path().is_file() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a module-relative path is left out of published zips: Terraform's working data and
/// state, which belong to whoever ran Terraform in the folder, not to the module.
pub fn is_excluded(relative: &str) -> bool {
    relative.split('/').any(|part| {
        part == ".terraform" || part == ".terraform.lock.hcl" || part.contains(".tfstate")
    })
}

/// The files of the module folder `dir` that get published, keyed by `/`-separated path relative
/// to `dir`.
pub fn module_files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut files = BTreeMap::new();
    collect_files(dir, "", &mut files)?;
    Ok(files)
}

fn collect_files(
    dir: &Path,
    prefix: &str,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry
            .file_name()
            .to_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{}: file names must be UTF-8", entry.path().display()))?;
        let relative = format!("{prefix}{name}");
        if is_excluded(&relative) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, &format!("{relative}/"), files)?;
        } else if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            files.insert(relative, bytes);
        }
    }
    Ok(())
}

/// A deterministic zip of `files`: entries in path order, deflated, dated 1980-01-01 and mode
/// 0644, so equal content gives equal bytes.
pub fn zip_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, String> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        writer
            .start_file(name.as_str(), options)
            .and_then(|()| writer.write_all(bytes).map_err(Into::into))
            .map_err(|e| format!("zipping {name}: {e}"))?;
    }
    let cursor = writer.finish().map_err(|e| format!("zipping: {e}"))?;
    Ok(cursor.into_inner())
}

/// The files of a zip, keyed by path; directory entries are skipped and an entry whose path
/// escapes the archive (absolute or with `..`) is an error.
pub fn unzip_files(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable zip: {e}"))?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive
            .by_index(i)
            .map_err(|e| format!("zip entry {i}: {e}"))?;
        if file.is_dir() {
            continue;
        }
        let name = file.name().to_string();
        if file.enclosed_name().is_none() {
            return Err(format!("zip entry {name:?} escapes the archive"));
        }
        let mut content = Vec::new();
        file.read_to_end(&mut content)
            .map_err(|e| format!("zip entry {name}: {e}"))?;
        files.insert(name, content);
    }
    Ok(files)
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ----- the index ---------------------------------------------------------------------------

/// `index.json`: the published versions of every module.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// The layout version of this file; 1.
    pub format: u32,
    /// Per module, its versions in ascending semver order.
    pub modules: BTreeMap<String, Vec<IndexEntry>>,
}

/// One published version in the index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexEntry {
    /// The semver version.
    pub version: String,
    /// The zip's key relative to the store root: always `<module>/<version>.zip` (checked when
    /// the index is read; never used as a path on its own).
    pub file: String,
    /// Lowercase hex sha256 of the zip.
    pub sha256: String,
}

impl Index {
    const FORMAT: u32 = 1;

    /// An empty index.
    pub fn new() -> Index {
        Index {
            format: Index::FORMAT,
            modules: BTreeMap::new(),
        }
    }

    /// Parses `index.json`.
    pub fn parse(bytes: &[u8]) -> Result<Index, String> {
        let index: Index =
            serde_json::from_slice(bytes).map_err(|e| format!("index.json is malformed: {e}"))?;
        if index.format != Index::FORMAT {
            return Err(format!(
                "index.json has format {}, this mesh-modules reads format {}",
                index.format,
                Index::FORMAT
            ));
        }
        for (module, entries) in &index.modules {
            if !is_plain_name(module) {
                return Err(format!(
                    "index.json: module name {module:?} is not a plain folder name"
                ));
            }
            for entry in entries {
                let version = Version::parse(&entry.version).map_err(|e| {
                    format!(
                        "index.json: module {module}: version {:?}: {e}",
                        entry.version
                    )
                })?;
                // The file is never trusted as a path: it must be the key derived from the
                // module and version, which is what is read and written.
                let expected = zip_key(module, &version);
                if entry.file != expected {
                    return Err(format!(
                        "index.json: module {module} version {version}: file {:?} is not the \
                         expected {expected:?}",
                        entry.file
                    ));
                }
            }
        }
        Ok(index)
    }

    /// The deterministic JSON text: sorted modules, versions in semver order, a final newline.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and maps cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The highest published version of `module`.
    pub fn latest(&self, module: &str) -> Option<Version> {
        self.entry_latest(module)
            .and_then(|e| Version::parse(&e.version).ok())
    }

    /// The index entry of `module`'s `version`, if published.
    pub fn entry(&self, module: &str, version: &Version) -> Option<&IndexEntry> {
        self.modules.get(module).and_then(|entries| {
            entries
                .iter()
                .find(|e| Version::parse(&e.version).ok().as_ref() == Some(version))
        })
    }

    /// The index entry of the highest published version of `module`.
    pub fn entry_latest(&self, module: &str) -> Option<&IndexEntry> {
        self.modules.get(module).and_then(|entries| {
            entries
                .iter()
                .filter_map(|e| Version::parse(&e.version).ok().map(|v| (v, e)))
                .max_by(|a, b| a.0.cmp(&b.0))
                .map(|(_, e)| e)
        })
    }

    /// Records a published version (replacing a stale entry for the same version).
    pub fn add(&mut self, module: &str, version: &Version, file: &str, sha256: &str) {
        let entries = self.modules.entry(module.to_string()).or_default();
        entries.retain(|e| e.version != version.to_string());
        entries.push(IndexEntry {
            version: version.to_string(),
            file: file.to_string(),
            sha256: sha256.to_string(),
        });
        entries.sort_by_key(|e| Version::parse(&e.version).ok());
    }
}

// ----- stores ------------------------------------------------------------------------------

/// Where versions are published, parsed from `--to`/`--from`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreLocation {
    /// A local directory.
    Dir(PathBuf),
    /// `s3://BUCKET/PREFIX`; the prefix has no leading or trailing `/` and may be empty.
    S3 {
        /// The bucket name.
        bucket: String,
        /// The key prefix.
        prefix: String,
    },
}

impl StoreLocation {
    /// Parses `s3://BUCKET[/PREFIX]` or a directory path.
    pub fn parse(spec: &str) -> Result<StoreLocation, String> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!("store {spec:?}: no bucket name after s3://"));
            }
            return Ok(StoreLocation::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_matches('/').to_string(),
            });
        }
        if spec.is_empty() {
            return Err("the store is empty: give a directory or s3://BUCKET/PREFIX".into());
        }
        if spec.contains("://") {
            return Err(format!(
                "store {spec:?}: only s3://BUCKET/PREFIX and directory paths are supported"
            ));
        }
        let path = std::path::absolute(spec).map_err(|e| format!("store {spec:?}: {e}"))?;
        Ok(StoreLocation::Dir(path))
    }
}

/// The result of an upload that must not overwrite.
#[derive(Debug, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was created.
    Written,
    /// Something already exists under the key; nothing was written.
    AlreadyExists,
}

/// An opened store: a directory, or a bucket with an S3 client.
pub struct Store {
    location: StoreLocation,
    s3: Option<S3>,
}

struct S3 {
    client: aws_sdk_s3::Client,
    endpoint: Option<String>,
    region: String,
}

impl Store {
    /// Opens `spec` (a directory or `s3://BUCKET/PREFIX`). For S3 the client uses the AWS
    /// configuration chain (credentials from the environment); `endpoint` (else
    /// `$AWS_ENDPOINT_URL`) selects an S3-compatible service, addressed path-style.
    pub async fn open(
        spec: &str,
        endpoint: Option<&str>,
        region: Option<&str>,
    ) -> Result<Store, String> {
        let location = StoreLocation::parse(spec)?;
        let s3 = match location {
            StoreLocation::Dir(_) => None,
            StoreLocation::S3 { .. } => Some(S3::connect(endpoint, region).await),
        };
        Ok(Store { location, s3 })
    }

    /// The location this store was opened at.
    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    /// The store as the user wrote it, normalized: the directory's absolute path or the s3 URL.
    pub fn describe(&self) -> String {
        match &self.location {
            StoreLocation::Dir(path) => path.display().to_string(),
            StoreLocation::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            StoreLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }

    fn s3_key(prefix: &str, key: &str) -> String {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}/{key}")
        }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        match &self.location {
            StoreLocation::Dir(dir) => Some(dir.join(key)),
            StoreLocation::S3 { .. } => None,
        }
    }

    fn s3(&self) -> Result<(&S3, &str, String), String> {
        match (&self.location, &self.s3) {
            (StoreLocation::S3 { bucket, prefix }, Some(s3)) => Ok((s3, bucket, prefix.clone())),
            _ => Err("internal error: not an S3 store (a mesh-modules bug)".into()),
        }
    }

    /// Where an object is, for people: a path, or `s3://bucket/key` with its HTTP URL.
    pub fn object_url(&self, key: &str) -> String {
        match &self.location {
            StoreLocation::Dir(dir) => dir.join(key).display().to_string(),
            StoreLocation::S3 { bucket, prefix } => {
                let full = Store::s3_key(prefix, key);
                let http = match self.s3.as_ref().and_then(|s| s.endpoint.as_deref()) {
                    Some(endpoint) => format!("{}/{bucket}/{full}", endpoint.trim_end_matches('/')),
                    None => format!(
                        "https://{bucket}.s3.{}.amazonaws.com/{full}",
                        self.s3.as_ref().map_or("us-east-1", |s| s.region.as_str())
                    ),
                };
                format!("s3://{bucket}/{full} ({http})")
            }
        }
    }

    /// The `source` string a Terraform 1.0.3 `module` block uses to fetch the zip at `key` (see
    /// the module documentation); credentials for a custom endpoint appear as placeholders.
    pub fn terraform_source(&self, key: &str) -> String {
        match (&self.location, &self.s3) {
            (StoreLocation::S3 { bucket, prefix }, Some(s3)) => s3_source(
                s3.endpoint.as_deref(),
                &s3.region,
                bucket,
                &Store::s3_key(prefix, key),
                Some(("<AWS_ACCESS_KEY_ID>", "<AWS_SECRET_ACCESS_KEY>")),
            ),
            _ => self
                .path(key)
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }
    }

    pub(crate) fn source_hint(&self) -> Option<String> {
        let s3 = self.s3.as_ref()?;
        s3.endpoint.as_ref()?;
        Some(
            "note: Terraform's S3 getter only uses a custom endpoint when the source carries \
             credentials: replace the placeholders with the access key id and secret."
                .to_string(),
        )
    }

    /// Fails with a clear message when the directory or bucket does not exist (for publish,
    /// which creates a missing directory but never a bucket).
    pub async fn require_exists(&self) -> Result<(), String> {
        match &self.location {
            StoreLocation::Dir(dir) => std::fs::create_dir_all(dir)
                .map_err(|e| format!("store {}: cannot create it: {e}", dir.display())),
            StoreLocation::S3 { .. } => {
                if self.exists().await? {
                    Ok(())
                } else {
                    Err(format!(
                        "store {}: the bucket does not exist; create it first (publish creates \
                         no bucket)",
                        self.describe()
                    ))
                }
            }
        }
    }

    /// Whether the directory or bucket exists.
    pub async fn exists(&self) -> Result<bool, String> {
        match &self.location {
            StoreLocation::Dir(dir) => Ok(dir.is_dir()),
            StoreLocation::S3 { .. } => {
                let (s3, bucket, _) = self.s3()?;
                match s3.client.head_bucket().bucket(bucket).send().await {
                    Ok(_) => Ok(true),
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
                    Err(e) if status(&e) == Some(404) => Ok(false),
                    Err(e) => Err(format!(
                        "store {}: cannot reach the bucket: {}",
                        self.describe(),
                        DisplayErrorContext(&e)
                    )),
                }
            }
        }
    }

    /// The object at `key`, or `None` when it (or the whole store) does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        check_key(key)?;
        if let Some(path) = self.path(key) {
            return match std::fs::read(&path) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", path.display())),
            };
        }
        let (s3, bucket, prefix) = self.s3()?;
        let full = Store::s3_key(&prefix, key);
        match s3
            .client
            .get_object()
            .bucket(bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(output) => {
                let bytes = output.body.collect().await.map_err(|e| {
                    format!("reading s3://{bucket}/{full}: {}", DisplayErrorContext(&e))
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e)
                if e.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || matches!(e.code(), Some("NoSuchKey" | "NoSuchBucket"))
                    || status(&e) == Some(404) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!(
                "reading s3://{bucket}/{full}: {}",
                DisplayErrorContext(&e)
            )),
        }
    }

    /// Writes `bytes` at `key` unless something is already there.
    pub async fn put_new(&self, key: &str, bytes: &[u8]) -> Result<PutOutcome, String> {
        check_key(key)?;
        if let Some(path) = self.path(key) {
            return put_new_file(&path, bytes);
        }
        let (s3, bucket, prefix) = self.s3()?;
        let full = Store::s3_key(&prefix, key);
        // HEAD first: emulators may ignore If-None-Match.
        match s3
            .client
            .head_object()
            .bucket(bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(_) => return Ok(PutOutcome::AlreadyExists),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {}
            Err(e) if status(&e) == Some(404) => {}
            Err(e) => {
                return Err(format!(
                    "checking s3://{bucket}/{full}: {}",
                    DisplayErrorContext(&e)
                ))
            }
        }
        let result = s3
            .client
            .put_object()
            .bucket(bucket)
            .key(&full)
            .if_none_match("*")
            .content_type("application/zip")
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) || matches!(status(&e), Some(409 | 412)) =>
            {
                Ok(PutOutcome::AlreadyExists)
            }
            Err(e) => Err(format!(
                "uploading s3://{bucket}/{full}: {}",
                DisplayErrorContext(&e)
            )),
        }
    }

    /// Writes `bytes` at `key`, replacing what is there (for the index).
    pub async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), String> {
        check_key(key)?;
        if let Some(path) = self.path(key) {
            return replace_file(&path, bytes);
        }
        let (s3, bucket, prefix) = self.s3()?;
        let full = Store::s3_key(&prefix, key);
        s3.client
            .put_object()
            .bucket(bucket)
            .key(&full)
            .content_type(content_type)
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "uploading s3://{bucket}/{full}: {}",
                    DisplayErrorContext(&e)
                )
            })
    }

    /// The store's index; empty when the store or its index does not exist yet.
    pub async fn read_index(&self) -> Result<Index, String> {
        match self.get(INDEX_KEY).await? {
            Some(bytes) => {
                Index::parse(&bytes).map_err(|e| format!("store {}: {e}", self.describe()))
            }
            None => Ok(Index::new()),
        }
    }

    /// Replaces the store's index.
    pub async fn write_index(&self, index: &Index) -> Result<(), String> {
        self.put(INDEX_KEY, index.to_json().as_bytes(), "application/json")
            .await
    }
}

fn status<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

impl S3 {
    async fn connect(endpoint: Option<&str>, region: Option<&str>) -> S3 {
        let endpoint = endpoint
            .map(str::to_string)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .filter(|e| !e.is_empty())
            .map(|e| e.trim_end_matches('/').to_string());
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(region) = region {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        let sdk = loader.load().await;
        let region = sdk
            .region()
            .map_or_else(|| "us-east-1".to_string(), ToString::to_string);
        let mut config =
            aws_sdk_s3::config::Builder::from(&sdk).region(aws_config::Region::new(region.clone()));
        if let Some(endpoint) = &endpoint {
            // Emulators and most S3-compatible services have no per-bucket host names.
            config = config.endpoint_url(endpoint).force_path_style(true);
        }
        S3 {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            endpoint,
            region,
        }
    }
}

/// The Terraform 1.0.3 (go-getter v1.5.2) `source` for the object `key` in `bucket`.
///
/// Without `endpoint` it is the path-style AWS form
/// `s3::https://s3-<region>.amazonaws.com/<bucket>/<key>` (`s3.amazonaws.com` for us-east-1).
/// With a custom endpoint it is `s3::<endpoint>/<bucket>/<key>` followed by the credentials the
/// getter needs to honour the endpoint (`aws_access_key_id`, `aws_access_key_secret`) and
/// `region` unless it is us-east-1, the getter's default for non-AWS hosts. Query values are
/// percent-encoded.
pub fn s3_source(
    endpoint: Option<&str>,
    region: &str,
    bucket: &str,
    key: &str,
    credentials: Option<(&str, &str)>,
) -> String {
    match endpoint {
        None if region == "us-east-1" => format!("s3::https://s3.amazonaws.com/{bucket}/{key}"),
        None => format!("s3::https://s3-{region}.amazonaws.com/{bucket}/{key}"),
        Some(endpoint) => {
            let mut query = Vec::new();
            if let Some((id, secret)) = credentials {
                query.push(format!("aws_access_key_id={}", query_escape(id)));
                query.push(format!("aws_access_key_secret={}", query_escape(secret)));
            }
            if region != "us-east-1" {
                query.push(format!("region={}", query_escape(region)));
            }
            let base = format!("s3::{}/{bucket}/{key}", endpoint.trim_end_matches('/'));
            if query.is_empty() {
                base
            } else {
                format!("{base}?{}", query.join("&"))
            }
        }
    }
}

fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            // Placeholders stay readable.
            b'<' | b'>' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Creates `path` with `bytes` unless it exists. The content goes to a temporary file first and
/// is then hard-linked into place, which fails atomically if `path` appeared meanwhile, so a
/// reader never sees a partial zip.
fn put_new_file(path: &Path, bytes: &[u8]) -> Result<PutOutcome, String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    if path.exists() {
        return Ok(PutOutcome::AlreadyExists);
    }
    let temp = temp_sibling(path);
    std::fs::write(&temp, bytes).map_err(|e| format!("{}: {e}", temp.display()))?;
    let linked = std::fs::hard_link(&temp, path);
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(PutOutcome::Written),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
        Err(_) => {
            // Some file systems have no hard links; create_new still never overwrites.
            let mut file = match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Ok(PutOutcome::AlreadyExists)
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            file.write_all(bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(PutOutcome::Written)
        }
    }
}

/// Replaces `path` atomically (write a temporary file, then rename over).
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let temp = temp_sibling(path);
    std::fs::write(&temp, bytes).map_err(|e| format!("{}: {e}", temp.display()))?;
    std::fs::rename(&temp, path).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("{}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn zips_are_deterministic_and_round_trip() {
        let content = files(&[
            ("main.tf", "resource \"x\" \"y\" {}\n"),
            ("examples/basic/main.tf", "module \"m\" {}\n"),
            ("README.md", "# m\n"),
        ]);
        let a = zip_files(&content).unwrap();
        let b = zip_files(&content).unwrap();
        assert_eq!(a, b);
        assert_eq!(unzip_files(&a).unwrap(), content);
    }

    #[test]
    fn excludes_terraform_working_data() {
        assert!(is_excluded(".terraform/modules/x"));
        assert!(is_excluded("examples/basic/.terraform/providers"));
        assert!(is_excluded("terraform.tfstate"));
        assert!(is_excluded("examples/basic/terraform.tfstate.backup"));
        assert!(is_excluded(".terraform.lock.hcl"));
        assert!(!is_excluded("main.tf"));
        assert!(!is_excluded("examples/basic/main.tf"));
    }

    #[test]
    fn parses_stores() {
        assert_eq!(
            StoreLocation::parse("s3://bucket/a/b/").unwrap(),
            StoreLocation::S3 {
                bucket: "bucket".into(),
                prefix: "a/b".into()
            }
        );
        assert_eq!(
            StoreLocation::parse("s3://bucket").unwrap(),
            StoreLocation::S3 {
                bucket: "bucket".into(),
                prefix: String::new()
            }
        );
        assert!(StoreLocation::parse("s3:///x").is_err());
        assert!(StoreLocation::parse("https://example.com/x").is_err());
        assert!(matches!(
            StoreLocation::parse("some/dir").unwrap(),
            StoreLocation::Dir(p) if p.is_absolute()
        ));
    }

    #[test]
    fn index_sorts_by_semver_and_finds_latest() {
        let mut index = Index::new();
        let v = |s: &str| Version::parse(s).unwrap();
        index.add("m", &v("1.10.0"), "m/1.10.0.zip", "aa");
        index.add("m", &v("1.9.0"), "m/1.9.0.zip", "bb");
        index.add("a", &v("1.0.0"), "a/1.0.0.zip", "cc");
        assert_eq!(index.latest("m"), Some(v("1.10.0")));
        assert_eq!(index.latest("zzz"), None);
        let versions: Vec<&str> = index.modules["m"]
            .iter()
            .map(|e| e.version.as_str())
            .collect();
        assert_eq!(versions, ["1.9.0", "1.10.0"]);
        let json = index.to_json();
        assert_eq!(Index::parse(json.as_bytes()).unwrap(), index);
        assert!(json.find("\"a\"").unwrap() < json.find("\"m\"").unwrap());
        assert!(Index::parse(b"{\"format\": 2, \"modules\": {}}").is_err());
        assert!(Index::parse(b"not json").is_err());
    }

    #[test]
    fn terraform_sources() {
        assert_eq!(
            s3_source(None, "us-east-1", "b", "p/m/1.0.0.zip", None),
            "s3::https://s3.amazonaws.com/b/p/m/1.0.0.zip"
        );
        assert_eq!(
            s3_source(None, "eu-west-1", "b", "m/1.0.0.zip", None),
            "s3::https://s3-eu-west-1.amazonaws.com/b/m/1.0.0.zip"
        );
        assert_eq!(
            s3_source(
                Some("http://127.0.0.1:5000/"),
                "us-east-1",
                "b",
                "m/1.0.0.zip",
                Some(("testing", "te/st+"))
            ),
            "s3::http://127.0.0.1:5000/b/m/1.0.0.zip?aws_access_key_id=testing&aws_access_key_secret=te%2Fst%2B"
        );
        assert_eq!(
            s3_source(Some("http://h:1"), "eu-west-1", "b", "k.zip", None),
            "s3::http://h:1/b/k.zip?region=eu-west-1"
        );
    }

    #[test]
    fn put_new_file_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m/1.0.0.zip");
        assert_eq!(put_new_file(&path, b"one").unwrap(), PutOutcome::Written);
        assert_eq!(
            put_new_file(&path, b"two").unwrap(),
            PutOutcome::AlreadyExists
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(dir.path().join("m")).unwrap().count(), 1);
    }

    #[test]
    fn index_files_must_be_the_derived_keys() {
        let entry = |module: &str, file: &str| {
            format!(
                "{{\"format\": 1, \"modules\": {{\"{module}\": [{{\"version\": \"1.0.0\", \
                 \"file\": \"{file}\", \"sha256\": \"aa\"}}]}}}}"
            )
        };
        assert!(Index::parse(entry("m", "m/1.0.0.zip").as_bytes()).is_ok());
        for file in [
            "../m/1.0.0.zip",
            "/etc/passwd",
            "m/../../x.zip",
            "n/1.0.0.zip",
            "",
        ] {
            let err = Index::parse(entry("m", file).as_bytes()).unwrap_err();
            assert!(err.contains("is not the expected \"m/1.0.0.zip\""), "{err}");
        }
        for module in ["..", ".", "a/b", ""] {
            let err = Index::parse(entry(module, "x").as_bytes()).unwrap_err();
            assert!(err.contains("is not a plain folder name"), "{err}");
        }
    }

    #[test]
    fn store_keys_stay_inside_the_store() {
        assert!(check_key("m/1.0.0.zip").is_ok());
        assert!(check_key(INDEX_KEY).is_ok());
        for key in ["../x", "/abs", "m//x", "m/./x", "m\\..\\x", ""] {
            assert!(check_key(key).is_err(), "{key}");
        }
        let dir = tempfile::tempdir().unwrap();
        let store = block_on(Store::open(&dir.path().display().to_string(), None, None)).unwrap();
        let err = block_on(store.get("../outside")).unwrap_err();
        assert!(err.contains("would leave the store"), "{err}");
    }
}
