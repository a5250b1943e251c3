//! go-hclog JSON logging on stderr.
//!
//! Terraform reads a provider's stderr line by line; a JSON line with `@level`, `@message`,
//! `@timestamp` and `@module` is re-logged at that level in Terraform's own log, so `TF_LOG=DEBUG`
//! shows the provider's lines beside Terraform's. The level comes from `TF_LOG_PROVIDER`, else
//! `TF_LOG`; unset or `OFF` logs nothing (Terraform would discard it anyway).
//!
//! Use the macros: `log::debug!("configured provider", region = region, retries = 3)`. Values are
//! anything `serde_json::Value` can be built from. Never pass credentials: nothing here redacts.

use std::io::Write;
use std::sync::OnceLock;

/// hclog levels, in increasing severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Every AWS call, every RPC.
    Trace,
    /// Decisions worth seeing when debugging.
    Debug,
    /// Notable events.
    Info,
    /// Something odd that does not fail the operation.
    Warn,
    /// A failure.
    Error,
}

impl Level {
    /// The hclog name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// Parses a `TF_LOG`-style setting. `None` means logging is off.
    pub fn from_setting(setting: &str) -> Option<Level> {
        match setting.trim().to_ascii_uppercase().as_str() {
            "TRACE" | "JSON" => Some(Level::Trace),
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARN" => Some(Level::Warn),
            "ERROR" => Some(Level::Error),
            // Terraform treats any other non-empty value as TRACE, except OFF.
            "" | "OFF" => None,
            _ => Some(Level::Trace),
        }
    }
}

/// The module name Terraform shows for our lines.
pub const MODULE: &str = "provider.terraform-provider-mesh";

static LEVEL: OnceLock<Option<Level>> = OnceLock::new();

/// The configured threshold: read once from the environment.
pub fn threshold() -> Option<Level> {
    *LEVEL.get_or_init(|| {
        let from = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        from("TF_LOG_PROVIDER")
            .or_else(|| from("TF_LOG"))
            .and_then(|s| Level::from_setting(&s))
    })
}

/// True when a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    threshold().is_some_and(|t| level >= t)
}

/// hclog's `2006-01-02T15:04:05.000000Z07:00` for UTC: six fractional digits, then `Z`.
const TIMESTAMP: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
);

/// Formats one log line (without the newline).
pub fn format_line(
    level: Level,
    message: &str,
    fields: &[(&str, serde_json::Value)],
    now: time::OffsetDateTime,
) -> String {
    let mut map = serde_json::Map::new();
    map.insert("@level".into(), level.as_str().into());
    map.insert("@message".into(), message.into());
    map.insert("@module".into(), MODULE.into());
    let stamp = now
        .to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .unwrap_or_default();
    map.insert("@timestamp".into(), stamp.into());
    for (key, value) in fields {
        map.insert((*key).to_string(), value.clone());
    }
    serde_json::Value::Object(map).to_string()
}

/// Writes one line when `level` is enabled. Prefer the macros.
pub fn write(level: Level, message: &str, fields: &[(&str, serde_json::Value)]) {
    if !enabled(level) {
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let mut line = format_line(level, message, fields, now);
    line.push('\n');
    // One write call per line so concurrent lines do not interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Logs at a level: `log!(Level::Info, "message", key = value, ...)`.
#[macro_export]
macro_rules! log_at {
    ($level:expr, $msg:expr $(, $key:ident = $value:expr)* $(,)?) => {
        if $crate::log::enabled($level) {
            $crate::log::write($level, &$msg, &[$((stringify!($key), ::serde_json::json!($value))),*]);
        }
    };
}

/// Logs at TRACE.
#[macro_export]
macro_rules! trace { ($($t:tt)*) => { $crate::log_at!($crate::log::Level::Trace, $($t)*) }; }
/// Logs at DEBUG.
#[macro_export]
macro_rules! debug { ($($t:tt)*) => { $crate::log_at!($crate::log::Level::Debug, $($t)*) }; }
/// Logs at INFO.
#[macro_export]
macro_rules! info { ($($t:tt)*) => { $crate::log_at!($crate::log::Level::Info, $($t)*) }; }
/// Logs at WARN.
#[macro_export]
macro_rules! warn { ($($t:tt)*) => { $crate::log_at!($crate::log::Level::Warn, $($t)*) }; }
/// Logs at ERROR.
#[macro_export]
macro_rules! error { ($($t:tt)*) => { $crate::log_at!($crate::log::Level::Error, $($t)*) }; }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_hclog_fields_and_six_fractional_digits() {
        let now = time::macros::datetime!(2026-11-23 10:11:12.5 UTC);
        let line = format_line(Level::Warn, "hello", &[("op", "CreateLFTag".into())], now);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "warn");
        assert_eq!(v["@message"], "hello");
        assert_eq!(v["@module"], MODULE);
        assert_eq!(v["@timestamp"], "2026-11-23T10:11:12.500000Z");
        assert_eq!(v["op"], "CreateLFTag");
    }

    #[test]
    fn levels_parse_like_terraform() {
        assert_eq!(Level::from_setting("json"), Some(Level::Trace));
        assert_eq!(Level::from_setting("DEBUG"), Some(Level::Debug));
        assert_eq!(Level::from_setting("off"), None);
        assert_eq!(Level::from_setting("whatever"), Some(Level::Trace));
    }
}
