//! The error of every codec and of the serde bridge: what went wrong, and where in the value.

use std::fmt;

use crate::framework::path::{AttributePath, PathStep};

/// A value that cannot be decoded, encoded or converted, and where in it the problem sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Where in the value (relative to the value handed to the codec).
    pub path: AttributePath,
    /// What is wrong, for a human.
    pub message: String,
}

impl ValueError {
    /// An error at `path`.
    pub fn new(path: AttributePath, message: impl Into<String>) -> Self {
        Self {
            path,
            message: message.into(),
        }
    }

    /// An error about the whole value.
    pub fn root(message: impl Into<String>) -> Self {
        Self::new(AttributePath::root(), message)
    }

    /// An error at the path made of `steps` (the codecs track the path as a stack of steps and
    /// build an [`AttributePath`] only when something fails).
    pub(crate) fn at(steps: &[PathStep], message: impl Into<String>) -> Self {
        Self::new(
            AttributePath {
                steps: steps.to_vec(),
            },
            message,
        )
    }
}

impl fmt::Display for ValueError {
    /// `<path>: <message>`, or just the message when the path is the root.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_root() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}

/// The error type of the serde bridge. serde creates errors (`missing field`, `invalid type`)
/// without knowing where they are; the bridge fills in the path of the value being visited when
/// the error passes it on the way out, so the innermost path wins.
#[derive(Debug)]
pub(crate) struct BridgeError {
    pub(crate) path: Option<AttributePath>,
    pub(crate) message: String,
}

impl BridgeError {
    /// An error at a known path.
    pub(crate) fn at(path: &AttributePath, message: impl Into<String>) -> Self {
        Self {
            path: Some(path.clone()),
            message: message.into(),
        }
    }

    /// Sets the path unless an inner value already did.
    pub(crate) fn within(mut self, path: &AttributePath) -> Self {
        if self.path.is_none() {
            self.path = Some(path.clone());
        }
        self
    }
}

impl fmt::Display for BridgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) if !p.is_root() => write!(f, "{p}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for BridgeError {}

impl serde::de::Error for BridgeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            path: None,
            message: msg.to_string(),
        }
    }
}

impl serde::ser::Error for BridgeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self {
            path: None,
            message: msg.to_string(),
        }
    }
}

impl From<BridgeError> for ValueError {
    fn from(e: BridgeError) -> Self {
        ValueError::new(e.path.unwrap_or_default(), e.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_path() {
        let e = ValueError::new(
            AttributePath::attr("tags").then_key("env"),
            "string is required",
        );
        assert_eq!(e.to_string(), "tags[\"env\"]: string is required");
        assert_eq!(ValueError::root("bad").to_string(), "bad");
    }
}
