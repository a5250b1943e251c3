//! One home for the names and rules of the mesh: account ids, regions, LF-tag keys and values,
//! domain and Glue names, the domain database name, the SLA bounds, and Lake Formation's
//! `IAM_ALLOWED_PRINCIPALS` group. The provider validates with them, and `mesh-modules` checks
//! the platform team's blueprint with the same functions (it links this library for them), so
//! a blueprint never allows what the provider refuses. Each check returns what is wrong, in a
//! sentence, or `None`.

use crate::framework::Validator;

/// The Lake Formation group that stands for "IAM permissions decide" (what Lake Formation-only
/// access removes).
pub const IAM_ALLOWED_PRINCIPALS: &str = "IAM_ALLOWED_PRINCIPALS";

/// The Glue database of domain `domain`: `<domain>_products`.
pub fn database_name(domain: &str) -> String {
    format!("{domain}_products")
}

/// The parameter keys the mesh keeps on Glue databases, tables and columns: what read and
/// import find again, and what tells the mesh's objects from others'. One home, so a domain and
/// its products never disagree on a key.
pub mod param {
    /// Database and table: the domain's name.
    pub const DOMAIN: &str = "mesh:domain";
    /// Database and table: the owning team.
    pub const OWNER_TEAM: &str = "mesh:owner_team";
    /// Database and table: the owner's address.
    pub const OWNER_EMAIL: &str = "mesh:owner_email";
    /// Database: the domain's data bucket.
    pub const BUCKET: &str = "mesh:bucket";
    /// Database: whether the domain created its bucket (`true`/`false`).
    pub const BUCKET_CREATED: &str = "mesh:bucket_created";
    /// Database: the role Lake Formation uses to reach the bucket.
    pub const REGISTRATION_ROLE: &str = "mesh:registration_role_arn";
    /// Database: made by `mesh_product_link` (only such a database is ever deleted).
    pub const CREATED_BY: &str = "mesh:created_by";
    /// Table: the SLA's freshness in minutes.
    pub const FRESHNESS: &str = "mesh:freshness_minutes";
    /// Table: the schema registry holding the product's schema.
    pub const REGISTRY: &str = "mesh:schema_registry";
    /// Table: the registry schema's ARN.
    pub const SCHEMA_ARN: &str = "mesh:schema_arn";
    /// Table: the registered schema version.
    pub const SCHEMA_VERSION: &str = "mesh:schema_version";
    /// Table: the registry schema's data format.
    pub const DATA_FORMAT: &str = "mesh:schema_data_format";
    /// Table: where the contract document is.
    pub const CONTRACT: &str = "mesh:contract_uri";
    /// Table: the DQDL quality rules.
    pub const RULES: &str = "mesh:quality_rules";
    /// Column: nullability (Glue has none of its own).
    pub const NULLABLE: &str = "mesh:nullable";
}

/// The mesh's metric convention, stated once: every domain publishes its products' metrics
/// under one namespace with the same dimensions, so one dashboard and one alarm shape serve the
/// whole mesh. Producers write `<location>_metadata/last_updated.json`
/// (`{"last_updated": RFC 3339, "records_processed": integer, "quality_score": number}`, only
/// the first required); the freshness probe turns it into these metrics.
pub mod metrics {
    /// The CloudWatch namespace.
    pub const NAMESPACE: &str = "DataMesh";
    /// The dimension naming the domain.
    pub const DOMAIN: &str = "Domain";
    /// The dimension naming the product.
    pub const PRODUCT: &str = "Product";
    /// Minutes since the product's data was last updated.
    pub const FRESHNESS: &str = "freshness_minutes";
    /// Records the last update processed.
    pub const RECORDS: &str = "records_processed";
    /// The last update's quality score, 0 to 1.
    pub const QUALITY: &str = "quality_score";
    /// Where, under a product's location, its producer writes the last update.
    pub const LAST_UPDATED: &str = "_metadata/last_updated.json";

    /// The freshness alarm of a product.
    pub fn freshness_alarm(domain: &str, product: &str) -> String {
        format!("{domain}-{product}-freshness")
    }

    /// The quality alarm of a product.
    pub fn quality_alarm(domain: &str, product: &str) -> String {
        format!("{domain}-{product}-quality")
    }
}

/// What is wrong with an SNS topic ARN (an alarm action), if anything.
pub fn check_sns_topic_arn(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let ok = matches!(
        parts.as_slice(),
        ["arn", partition, "sns", region, account, topic]
            if !partition.is_empty()
                && check_region(region).is_none()
                && is_account_id(account)
                && !topic.is_empty()
                && topic.len() <= 256
                && topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    );
    (!ok).then(|| format!("{s:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:TOPIC)."))
}

/// The largest `sla.freshness_minutes` a product may promise: one year.
pub const MAX_FRESHNESS_MINUTES: i64 = 525_600;

/// What is wrong with a domain name, if anything: 1 to 64 lowercase letters, digits and
/// underscores, starting with a letter (it names the Glue database `<name>_products`).
pub fn check_domain_name(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let starts = name.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    (name.is_empty() || name.len() > 64 || !ok_chars || !starts).then(|| {
        format!(
            "{name:?} is not a domain name: use 1 to 64 lowercase letters, digits and underscores, starting with a letter (it names the Glue database {:?}).",
            database_name(name)
        )
    })
}

/// What is wrong with an AWS region name, if anything (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `eusc-de-east-1`...): lowercase words joined by `-`, the first of two to
/// four letters, the last a number.
pub fn check_region(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    let (last, words) = parts.split_last()?;
    let ok = parts.len() >= 3
        && (2..=4).contains(&words[0].len())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit());
    (!ok).then(|| format!("{s:?} is not an AWS region name like \"us-east-1\"."))
}

/// Characters Lake Formation allows in LF-tag keys besides letters, digits and spaces (values
/// may also contain `*`).
const TAG_SYMBOLS: &str = "_.:/=+-@%";

fn tag_char(c: char, extra: &str) -> bool {
    c.is_alphanumeric() || c == ' ' || TAG_SYMBOLS.contains(c) || extra.contains(c)
}

/// What is wrong with an LF-tag key, if anything: 1 to 128 letters, digits, spaces and
/// `_ . : / = + - @ %`.
pub fn check_tag_key(key: &str) -> Option<String> {
    let len = key.chars().count();
    if !(1..=128).contains(&len) {
        return Some(format!(
            "The tag key {key:?} is {len} characters long; it must have between 1 and 128."
        ));
    }
    key.chars().find(|c| !tag_char(*c, "")).map(|c| {
        format!("The tag key {key:?} contains {c:?}; keys may contain letters, digits, spaces and {TAG_SYMBOLS}.")
    })
}

/// What is wrong with an LF-tag value, if anything: 1 to 256 letters, digits, spaces and
/// `_ . : / = + - @ % *`.
pub fn check_tag_value(value: &str) -> Option<String> {
    let len = value.chars().count();
    if !(1..=256).contains(&len) {
        return Some(format!(
            "The tag value {value:?} is {len} characters long; it must have between 1 and 256."
        ));
    }
    value.chars().find(|c| !tag_char(*c, "*")).map(|c| {
        format!("The tag value {value:?} contains {c:?}; values may contain letters, digits, spaces and {TAG_SYMBOLS}*.")
    })
}

/// True for a 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What is wrong with an account id, if anything.
pub fn check_account_id(s: &str) -> Option<String> {
    (!is_account_id(s)).then(|| format!("{s:?} is not a 12-digit AWS account id."))
}

/// A checked 12-digit AWS account id (also a Data Catalog id).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountId(String);

impl AccountId {
    /// Checks `s`; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        match check_account_id(s) {
            Some(problem) => Err(problem),
            None => Ok(Self(s.to_string())),
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The validator of attributes holding an account id (`catalog_id`, `tag_catalog_id`...):
/// `summary` names what it is, e.g. "Invalid catalog id".
pub fn account_id_validator(summary: &'static str) -> Validator {
    Validator::string("12-digit account id", summary, check_account_id)
}

/// What is wrong with a Glue database or table name, if anything: 1 to 255 characters, lower
/// case (Glue stores names in lower case, so an upper-case name never reads back the same), no
/// `/` and no control characters.
pub fn check_glue_name(name: &str) -> Option<String> {
    let len = name.chars().count();
    if !(1..=255).contains(&len) {
        return Some(format!(
            "{name:?} is {len} characters long; Glue names have 1 to 255."
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_uppercase()) {
        return Some(format!(
            "{name:?} contains the upper-case {c:?}; Glue stores names in lower case, so use {:?}.",
            name.to_lowercase()
        ));
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || c.is_control()) {
        return Some(format!(
            "{name:?} contains {c:?}, which Glue database and table names may not contain."
        ));
    }
    None
}

#[cfg(test)]
mod metric_tests {
    use super::*;

    #[test]
    fn alarm_names_and_topic_arns() {
        assert_eq!(
            metrics::freshness_alarm("commerce", "orders"),
            "commerce-orders-freshness"
        );
        assert_eq!(
            metrics::quality_alarm("commerce", "orders"),
            "commerce-orders-quality"
        );
        assert!(check_sns_topic_arn("arn:aws:sns:eu-west-1:111122223333:mesh-alarms").is_none());
        assert!(
            check_sns_topic_arn("arn:aws-us-gov:sns:us-gov-west-1:111122223333:t.fifo").is_none()
        );
        for bad in [
            "arn:aws:sqs:eu-west-1:111122223333:q",
            "arn:aws:sns:eu-west-1:1111:t",
            "arn:aws:sns:nowhere:111122223333:t",
            "arn:aws:sns:eu-west-1:111122223333:",
            "arn:aws:sns:eu-west-1:111122223333:bad/topic",
        ] {
            assert!(check_sns_topic_arn(bad).is_some(), "{bad}");
        }
    }
}

#[cfg(test)]
mod account_id_tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert_eq!(
            AccountId::parse("123456789012").unwrap().as_str(),
            "123456789012"
        );
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 23456789012",
        ] {
            assert!(
                AccountId::parse(bad).unwrap_err().contains("12-digit"),
                "{bad:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids() {
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333"));
        assert!(!is_account_id("11112222333a"));
        assert_eq!(
            check_account_id("123").as_deref(),
            Some("\"123\" is not a 12-digit AWS account id.")
        );
    }

    #[test]
    fn regions() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "ap-southeast-4",
            "eusc-de-east-1",
        ] {
            assert_eq!(check_region(ok), None, "{ok}");
        }
        for bad in [
            "",
            "mars",
            "EU-WEST-1",
            "eu-west",
            "europe-west-1",
            "eu--1",
            "eu-west-x",
        ] {
            assert!(check_region(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn tag_keys_and_values() {
        assert_eq!(check_tag_key("sensitivity"), None);
        assert_eq!(check_tag_key("data:owner/team@x"), None);
        assert!(check_tag_key("").is_some());
        assert!(check_tag_key(&"k".repeat(129)).is_some());
        assert!(check_tag_key("a*b").unwrap().contains("'*'"));
        assert!(check_tag_key("tab\tkey").is_some());
        assert_eq!(check_tag_value("a*b"), None);
        assert!(check_tag_value(&"v".repeat(257)).is_some());
        assert!(check_tag_value("a#b").is_some());
    }

    #[test]
    fn domain_names() {
        assert_eq!(check_domain_name("commerce_2"), None);
        for bad in ["", "2commerce", "Commerce", "com-merce", &"d".repeat(65)] {
            assert!(check_domain_name(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn glue_names() {
        assert_eq!(check_glue_name("commerce_products"), None);
        assert!(check_glue_name("").is_some());
        assert!(check_glue_name(&"a".repeat(256)).is_some());
        assert!(check_glue_name("Orders").unwrap().contains("\"orders\""));
        assert!(check_glue_name("a/b").is_some());
        assert!(check_glue_name("a\nb").is_some());
        assert_eq!(database_name("commerce"), "commerce_products");
    }
}
