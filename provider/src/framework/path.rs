//! Attribute paths: where in a configuration a value or a diagnostic sits.

use std::fmt;

/// One step of an [`AttributePath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathStep {
    /// An object attribute or nested block, by name.
    Attribute(String),
    /// A map element, by key.
    ElementKeyString(String),
    /// A list or tuple element, by index.
    ElementKeyInt(i64),
}

/// A path from the root of a schema's object to one value in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributePath {
    /// The steps, outermost first.
    pub steps: Vec<PathStep>,
}

impl AttributePath {
    /// The empty path: the whole object.
    pub fn root() -> Self {
        Self::default()
    }

    /// A path to one top-level attribute.
    pub fn attr(name: impl Into<String>) -> Self {
        Self::root().then_attr(name)
    }

    /// This path extended by an attribute step.
    pub fn then_attr(&self, name: impl Into<String>) -> Self {
        self.then(PathStep::Attribute(name.into()))
    }

    /// This path extended by a map key step.
    pub fn then_key(&self, key: impl Into<String>) -> Self {
        self.then(PathStep::ElementKeyString(key.into()))
    }

    /// This path extended by a list index step.
    pub fn then_index(&self, index: usize) -> Self {
        self.then(PathStep::ElementKeyInt(index as i64))
    }

    /// This path extended by one step.
    pub fn then(&self, step: PathStep) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        Self { steps }
    }

    /// True for the root path.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }
}

impl fmt::Display for AttributePath {
    /// Renders the path the way HCL users write it: `assume_role.role_arn`, `tags["env"]`, `column[2]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Attribute(name) if i == 0 => write!(f, "{name}")?,
                PathStep::Attribute(name) => write!(f, ".{name}")?,
                PathStep::ElementKeyString(key) => write!(f, "[{key:?}]")?,
                PathStep::ElementKeyInt(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}
