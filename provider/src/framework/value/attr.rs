//! [`Attr`]: a model field that may be null, unknown or known.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// The name under which the serde bridge recognises an unknown `Attr`.
///
/// serde has no "unknown"; the bridge and `Attr` agree on this token instead: `Attr::Unknown`
/// serializes as a unit struct of this name (which other formats write like `null`), and the
/// bridge's `deserialize_option` offers an unknown value to the visitor as this string, which only
/// `Attr`'s visitor accepts.
pub(crate) const UNKNOWN_TOKEN: &str = "$mesh_provider::value::Attr::Unknown";

/// A model field for an attribute that may be null, unknown (during plan) or known.
///
/// Through [`super::from_value`] / [`super::to_value`] all three states round-trip. With other
/// serde formats (e.g. serde_json) it behaves like `Option<T>`: `Unknown` serializes as `null`.
/// A struct field of this type that is missing from the input deserializes as `Null` (as an
/// `Option` does), without `#[serde(default)]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attr<T> {
    /// Null: not set.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A known, non-null value.
    Known(T),
}

impl<T> Attr<T> {
    /// The value when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The value when known, mutably.
    pub fn known_mut(&mut self) -> Option<&mut T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    /// The value when known; `None` for null and unknown.
    pub fn into_option(self) -> Option<T> {
        match self {
            Attr::Known(v) => Some(v),
            _ => None,
        }
    }

    /// True when null.
    pub fn is_null(&self) -> bool {
        matches!(self, Attr::Null)
    }

    /// True when unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Attr::Unknown)
    }

    /// True when known.
    pub fn is_known(&self) -> bool {
        matches!(self, Attr::Known(_))
    }

    /// Maps a known value; null and unknown stay as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attr<U> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown => Attr::Unknown,
            Attr::Known(v) => Attr::Known(f(v)),
        }
    }

    /// A borrowing view.
    pub fn as_ref(&self) -> Attr<&T> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown => Attr::Unknown,
            Attr::Known(v) => Attr::Known(v),
        }
    }
}

impl<T> From<T> for Attr<T> {
    fn from(v: T) -> Self {
        Attr::Known(v)
    }
}

impl<T> From<Option<T>> for Attr<T> {
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => Attr::Known(v),
            None => Attr::Null,
        }
    }
}

impl<T: Serialize> Serialize for Attr<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Attr::Null => serializer.serialize_none(),
            Attr::Unknown => serializer.serialize_unit_struct(UNKNOWN_TOKEN),
            Attr::Known(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Attr<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // deserialize_option, not a newtype: serde's derive turns a missing field into
        // deserialize_option -> visit_none, which makes a missing Attr field Null.
        deserializer.deserialize_option(AttrVisitor(PhantomData))
    }
}

struct AttrVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for AttrVisitor<T> {
    type Value = Attr<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an optional value")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Attr::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Attr::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        T::deserialize(deserializer).map(Attr::Known)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == UNKNOWN_TOKEN {
            Ok(Attr::Unknown)
        } else {
            Err(E::invalid_type(de::Unexpected::Str(v), &self))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct M {
        a: Attr<String>,
        b: Attr<i64>,
    }

    #[test]
    fn behaves_like_option_in_other_formats() {
        let m = M {
            a: Attr::Unknown,
            b: Attr::Known(3),
        };
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"a":null,"b":3}"#);
        let back: M = serde_json::from_str(r#"{"a":"x"}"#).unwrap();
        assert_eq!(
            back,
            M {
                a: Attr::Known("x".into()),
                b: Attr::Null
            }
        );
        let back: M = serde_json::from_str(r#"{"a":null,"b":null}"#).unwrap();
        assert_eq!(
            back,
            M {
                a: Attr::Null,
                b: Attr::Null
            }
        );
    }

    #[test]
    fn helpers() {
        let a: Attr<i32> = 5.into();
        assert_eq!(a.known(), Some(&5));
        assert_eq!(a.map(|v| v * 2), Attr::Known(10));
        assert_eq!(Attr::<i32>::from(None), Attr::Null);
        assert_eq!(Attr::from(Some(1)).into_option(), Some(1));
        assert_eq!(Attr::<i32>::Unknown.into_option(), None);
        assert!(Attr::<i32>::default().is_null());
        struct NoDefault;
        assert!(Attr::<NoDefault>::default().is_null());
        assert!(Attr::<i32>::Unknown.is_unknown());
        assert_eq!(
            Attr::Known(String::from("x")).as_ref().map(|s| s.len()),
            Attr::Known(1)
        );
    }
}
