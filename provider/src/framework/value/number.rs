//! cty numbers: exact decimals, canonicalised so that equal numbers are equal values.
//!
//! cty numbers are arbitrary-precision floats. Terraform sends them as msgpack ints, floats or
//! decimal strings, and stores them in JSON as decimal text. A [`Number`] keeps the exact decimal
//! value of whatever it was given: integers in the `i64` range inline, everything else as a
//! decimal digit string with a power-of-ten exponent. A float becomes the shortest decimal that
//! reads back as the same float (`0.1_f64` is the number `0.1`), which is what users wrote and what
//! cty prints for it.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Largest magnitude of the decimal exponent accepted (`1e1000000000`). Far beyond what any
/// Terraform value carries; bounds the arithmetic on exponents.
const MAX_SCI_EXPONENT: i64 = 1_000_000_000;

/// Display writes plain decimals unless that needs more padding zeros than this; then it uses
/// scientific notation, so that a hostile `1e999999999` cannot become a gigabyte of text.
const MAX_PLAIN_ZEROS: i64 = 1_000;

/// Significant digits that always suffice to write an `f64` exactly (the longest exact expansion of
/// a double, a subnormal, has 767).
const F64_EXACT_DIGITS: usize = 800;

/// A cty number: an exact decimal (integer, float, or big decimal).
///
/// Equality and order are numeric: `1`, `1.0` and `"1"` are the same number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Repr);

/// Canonical representation: every value has exactly one, so derived `Eq`/`Hash` are numeric.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    /// Every integer in the `i64` range, and only those.
    Int(i64),
    /// `±digits × 10^exp`; `digits` are ASCII decimal digits without leading or trailing zeros
    /// (never empty, never zero), and the value is not an integer in the `i64` range.
    Dec {
        negative: bool,
        digits: Box<[u8]>,
        exp: i64,
    },
}

/// A borrowed decimal view of either representation, used for comparison and formatting.
struct Parts<'a> {
    negative: bool,
    /// No leading or trailing zeros; empty for zero.
    digits: &'a [u8],
    exp: i64,
}

impl Parts<'_> {
    /// Exponent of the leading digit when the value is written `0.d1d2... × 10^sci`.
    fn sci(&self) -> i64 {
        self.digits.len() as i64 + self.exp
    }
}

/// Writes the decimal digits of `v` (no sign, no leading zeros, at least one digit) into `buf`.
fn u64_digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number(Repr::Int(0));

    /// The number `f`, or `None` for NaN and infinities (cty has no NaN; Terraform cannot carry
    /// infinities through the provider protocol reliably, so they are refused here).
    ///
    /// A non-integral float becomes the shortest decimal that reads back as `f`.
    pub fn from_f64(f: f64) -> Option<Number> {
        if !f.is_finite() {
            return None;
        }
        // 2^63 is the first float out of i64 range; integral floats below it convert exactly.
        if f.fract() == 0.0 && f.abs() < 9_223_372_036_854_775_808.0 {
            return Some(Number(Repr::Int(f as i64)));
        }
        if f.fract() == 0.0 {
            // An integral float is an exact integer, and cty compares integers exactly: keep all
            // its digits (`{:.0}` formats exactly): 1e30_f64 is 1000000000000000019884624838656.
            return Number::parse(&format!("{f:.0}"));
        }
        // cty compares fractions by their shortest text; `{:e}` without precision is the shortest
        // representation that round-trips.
        Number::parse(&format!("{f:e}"))
    }

    /// Parses decimal text: optional sign, digits with an optional fraction, optional exponent
    /// (`12`, `-1.5`, `+.5`, `1e+100`, `2.50E-3`). `None` for anything else (including `NaN`,
    /// `Inf`, hex, whitespace) and for exponents beyond ±10^9.
    pub fn parse(s: &str) -> Option<Number> {
        let b = s.as_bytes();
        let mut i = 0;
        let mut negative = false;
        match b.first() {
            Some(b'-') => {
                negative = true;
                i = 1;
            }
            Some(b'+') => i = 1,
            _ => {}
        }
        let mut digits: Vec<u8> = Vec::new();
        let mut seen_digit = false;
        let mut frac_len: i64 = 0;
        let mut in_frac = false;
        while let Some(&c) = b.get(i) {
            match c {
                b'0'..=b'9' => {
                    seen_digit = true;
                    // Leading zeros carry no information (their position is kept by frac_len).
                    if !(digits.is_empty() && c == b'0') {
                        digits.push(c);
                    }
                    if in_frac {
                        frac_len += 1;
                    }
                }
                b'.' if !in_frac => in_frac = true,
                _ => break,
            }
            i += 1;
        }
        if !seen_digit {
            return None;
        }
        let mut exp: i64 = 0;
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            let mut exp_negative = false;
            match b.get(i) {
                Some(b'-') => {
                    exp_negative = true;
                    i += 1;
                }
                Some(b'+') => i += 1,
                _ => {}
            }
            let start = i;
            while let Some(&c) = b.get(i) {
                if !c.is_ascii_digit() {
                    break;
                }
                exp = exp.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                i += 1;
            }
            if i == start || exp > MAX_SCI_EXPONENT * 2 {
                return None;
            }
            if exp_negative {
                exp = -exp;
            }
        }
        if i != b.len() {
            return None;
        }
        Number::from_parts(negative, digits, exp.checked_sub(frac_len)?)
    }

    /// Canonicalises `±digits × 10^exp` (digits without leading zeros, possibly empty).
    fn from_parts(negative: bool, mut digits: Vec<u8>, mut exp: i64) -> Option<Number> {
        while digits.last() == Some(&b'0') {
            digits.pop();
            exp += 1;
        }
        if digits.is_empty() {
            return Some(Number::ZERO);
        }
        let sci = digits.len() as i64 + exp;
        if !(-MAX_SCI_EXPONENT..=MAX_SCI_EXPONENT).contains(&sci) {
            return None;
        }
        // An integer of at most 19 digits might fit in i64.
        if exp >= 0 && sci <= 19 {
            let mut magnitude: u64 = 0;
            for &d in digits.iter() {
                magnitude = magnitude * 10 + u64::from(d - b'0');
            }
            for _ in 0..exp {
                magnitude *= 10;
            }
            let fits = if negative {
                magnitude <= 1 << 63
            } else {
                magnitude <= i64::MAX as u64
            };
            if fits {
                let v = if negative {
                    (magnitude as i64).wrapping_neg()
                } else {
                    magnitude as i64
                };
                return Some(Number(Repr::Int(v)));
            }
        }
        Some(Number(Repr::Dec {
            negative,
            digits: digits.into_boxed_slice(),
            exp,
        }))
    }

    fn parts<'a>(&'a self, buf: &'a mut [u8; 20]) -> Parts<'a> {
        match &self.0 {
            Repr::Int(0) => Parts {
                negative: false,
                digits: &[],
                exp: 0,
            },
            Repr::Int(i) => {
                let all = u64_digits(i.unsigned_abs(), buf);
                let trimmed = all.len() - all.iter().rev().take_while(|&&d| d == b'0').count();
                Parts {
                    negative: *i < 0,
                    digits: &all[..trimmed],
                    exp: (all.len() - trimmed) as i64,
                }
            }
            Repr::Dec {
                negative,
                digits,
                exp,
            } => Parts {
                negative: *negative,
                digits,
                exp: *exp,
            },
        }
    }

    /// The number as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Int(i) => Some(i),
            Repr::Dec { .. } => None,
        }
    }

    /// The number as a `u64`, when it is a non-negative integer in range.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            Repr::Int(i) => u64::try_from(*i).ok(),
            Repr::Dec {
                negative: false,
                digits,
                exp,
            } if *exp >= 0 && digits.len() as i64 + *exp <= 20 => {
                let mut v: u64 = 0;
                for &d in digits.iter() {
                    v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
                }
                for _ in 0..*exp {
                    v = v.checked_mul(10)?;
                }
                Some(v)
            }
            Repr::Dec { .. } => None,
        }
    }

    /// The nearest `f64` (correctly rounded; ±infinity beyond the `f64` range, ±0 below it).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(i) => *i as f64,
            Repr::Dec {
                negative,
                digits,
                exp,
            } => {
                let mut s = String::with_capacity(digits.len() + 24);
                if *negative {
                    s.push('-');
                }
                s.extend(digits.iter().map(|&d| char::from(d)));
                s.push('e');
                s.push_str(&exp.to_string());
                // The text is well-formed by construction; std's parser rounds correctly.
                s.parse().unwrap_or(f64::NAN)
            }
        }
    }

    /// The `f64` that is exactly this number and that [`Number::from_f64`] maps back to it, if
    /// there is one (`0.5`, `2^70`; not `0.1`, which is no binary fraction, nor `1e30`).
    ///
    /// The msgpack encoder writes such numbers as float64: lossless both ways.
    pub fn to_f64_exact(&self) -> Option<f64> {
        match &self.0 {
            Repr::Int(i) => {
                let f = *i as f64;
                // i64::MAX rounds up to 2^63, which does not convert back: compare in i128.
                (f as i128 == i128::from(*i)).then_some(f)
            }
            Repr::Dec { digits, exp, .. } => {
                // A non-integral binary fraction always ends in the decimal digit 5.
                if digits.len() > F64_EXACT_DIGITS || (*exp < 0 && digits.last() != Some(&b'5')) {
                    return None;
                }
                let f = self.as_f64();
                if !f.is_finite() || Number::from_f64(f).as_ref() != Some(self) {
                    return None;
                }
                if *exp >= 0 {
                    // from_f64 keeps integral floats exact, so the check above was exact.
                    return Some(f);
                }
                // from_f64 gave the shortest text; also require that to be the exact value.
                let exact = Number::parse(&format!("{f:.prec$e}", prec = F64_EXACT_DIGITS))?;
                (exact == *self).then_some(f)
            }
        }
    }

    /// True for integers (of any size).
    pub fn is_integer(&self) -> bool {
        match &self.0 {
            Repr::Int(_) => true,
            Repr::Dec { exp, .. } => *exp >= 0,
        }
    }

    /// True for numbers below zero.
    pub fn is_negative(&self) -> bool {
        match &self.0 {
            Repr::Int(i) => *i < 0,
            Repr::Dec { negative, .. } => *negative,
        }
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            return a.cmp(b);
        }
        let (mut ba, mut bb) = ([0u8; 20], [0u8; 20]);
        let (a, b) = (self.parts(&mut ba), other.parts(&mut bb));
        let sign = |p: &Parts<'_>| match (p.digits.is_empty(), p.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        let (sa, sb) = (sign(&a), sign(&b));
        if sa != sb || sa == 0 {
            return sa.cmp(&sb);
        }
        // Same sign, both non-zero: compare magnitudes. With equal leading-digit exponents the
        // digit strings compare lexicographically (a proper prefix is smaller because the longer
        // string ends in a non-zero digit).
        let magnitude = a.sci().cmp(&b.sci()).then_with(|| a.digits.cmp(b.digits));
        if sa < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Default for Number {
    fn default() -> Self {
        Number::ZERO
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number(Repr::Int(v))
    }
}

impl From<u64> for Number {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Number(Repr::Int(i)),
            Err(_) => {
                let mut buf = [0u8; 20];
                let digits = u64_digits(v, &mut buf).to_vec();
                // Values above i64::MAX always form a valid Dec; ZERO is unreachable.
                Number::from_parts(false, digits, 0).unwrap_or(Number::ZERO)
            }
        }
    }
}

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(v: $t) -> Self {
                Number(Repr::Int(i64::from(v)))
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, u8, u16, u32);

impl From<usize> for Number {
    fn from(v: usize) -> Self {
        Number::from(v as u64)
    }
}

impl FromStr for Number {
    type Err = ParseNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s).ok_or(ParseNumberError)
    }
}

/// The error of [`Number::from_str`]: the text is not a decimal number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseNumberError;

impl fmt::Display for ParseNumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal number")
    }
}

impl std::error::Error for ParseNumberError {}

fn push_digits(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&d| char::from(d)));
}

fn push_zeros(out: &mut String, n: i64) {
    for _ in 0..n {
        out.push('0');
    }
}

impl fmt::Display for Number {
    /// Plain decimal text as cty prints it (`1`, `-1.5`, `0.001`, `100000000000000000000`);
    /// scientific notation (`1e+2000`) only when plain text would need over 1000 padding zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Repr::Int(i) = self.0 {
            return write!(f, "{i}");
        }
        let mut buf = [0u8; 20];
        let p = self.parts(&mut buf);
        let mut out = String::with_capacity(p.digits.len() + 8);
        if p.negative {
            out.push('-');
        }
        let len = p.digits.len() as i64;
        let point = len + p.exp; // digits before the decimal point
        let (int_digits, frac_digits) = p.digits.split_at(point.clamp(0, len) as usize);
        if p.exp >= 0 && p.exp <= MAX_PLAIN_ZEROS {
            push_digits(&mut out, p.digits);
            push_zeros(&mut out, p.exp);
        } else if p.exp < 0 && point > 0 {
            push_digits(&mut out, int_digits);
            out.push('.');
            push_digits(&mut out, frac_digits);
        } else if p.exp < 0 && -point <= MAX_PLAIN_ZEROS {
            out.push_str("0.");
            push_zeros(&mut out, -point);
            push_digits(&mut out, p.digits);
        } else {
            let (first, rest) = p.digits.split_at(1.min(p.digits.len()));
            push_digits(&mut out, first);
            if !rest.is_empty() {
                out.push('.');
                push_digits(&mut out, rest);
            }
            out.push_str(&format!("e{:+}", point - 1));
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap_or_else(|| panic!("parse {s}"))
    }

    #[test]
    fn equal_numbers_are_equal_whatever_their_source() {
        assert_eq!(Number::from(1i64), Number::from_f64(1.0).unwrap());
        assert_eq!(Number::from(1i64), n("1"));
        assert_eq!(n("1"), n("1.000"));
        assert_eq!(n("1"), n("0.1e1"));
        assert_eq!(n("100"), n("1e2"));
        assert_eq!(n("0"), n("-0.0"));
        assert_eq!(Number::from_f64(-0.0).unwrap(), Number::ZERO);
        assert_eq!(Number::from_f64(0.1).unwrap(), n("0.1"));
        assert_eq!(Number::from(u64::MAX), n("18446744073709551615"));
        assert_eq!(Number::from(i64::MIN), n("-9223372036854775808"));
        assert_eq!(n("1.50"), n("15e-1"));
    }

    #[test]
    fn parse_rejects_garbage() {
        for s in [
            "",
            "-",
            "+",
            ".",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "NaN",
            "Inf",
            "inf",
            "0x10",
            " 1",
            "1 ",
            "1_000",
            "--1",
            "1e99999999999999999999",
        ] {
            assert_eq!(Number::parse(s), None, "{s:?}");
        }
        assert_eq!(n(".5"), n("0.5"));
        assert_eq!(n("5."), n("5"));
        assert_eq!(n("+5"), n("5"));
    }

    #[test]
    fn display_is_plain_decimal() {
        for (input, shown) in [
            ("1", "1"),
            ("-1.5", "-1.5"),
            ("1e2", "100"),
            ("0.001", "0.001"),
            ("1e20", "100000000000000000000"),
            ("-12345678901234567890.125", "-12345678901234567890.125"),
            ("1e-3", "0.001"),
            ("12.5e-1", "1.25"),
            ("1e5000", "1e+5000"),
            ("-1.5e-5000", "-1.5e-5000"),
        ] {
            assert_eq!(n(input).to_string(), shown, "{input}");
        }
        assert_eq!(Number::from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(
            Number::from_f64(2f64.powi(70)).unwrap().to_string(),
            "1180591620717411303424"
        );
    }

    #[test]
    fn conversions() {
        assert_eq!(n("42").as_i64(), Some(42));
        assert_eq!(n("42.5").as_i64(), None);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551616").as_u64(), None);
        assert_eq!(n("-1").as_u64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
        assert_eq!(Number::from_f64(f64::NAN), None);
        assert_eq!(Number::from_f64(f64::INFINITY), None);
        assert_eq!(n("0.5").to_f64_exact(), Some(0.5));
        assert_eq!(n("0.1").to_f64_exact(), None);
        assert_eq!(Number::from(i64::MAX).to_f64_exact(), None);
        assert_eq!(
            n("9223372036854775808").to_f64_exact(),
            Some(9_223_372_036_854_775_808.0)
        );
        assert_eq!(n("1e30").to_f64_exact(), None);
        assert_eq!(
            Number::from_f64(1e30).unwrap().to_string(),
            "1000000000000000019884624838656"
        );
        assert_eq!(Number::from_f64(1e30).unwrap().to_f64_exact(), Some(1e30));
        assert_eq!(Number::from_f64(0.1).unwrap().to_f64_exact(), None);
        let exact_tenth = Number::parse(&format!("{:.60}", 0.1)).unwrap();
        assert_eq!(
            exact_tenth.to_f64_exact(),
            None,
            "not what from_f64 gives for 0.1"
        );
        assert!(n("1e20").is_integer());
        assert!(!n("1.5").is_integer());
    }

    #[test]
    fn order_is_numeric() {
        let sorted = [
            "-1e30",
            "-100",
            "-1.5",
            "-1",
            "-0.5",
            "0",
            "1e-30",
            "0.5",
            "1",
            "1.5",
            "2",
            "9223372036854775807",
            "9223372036854775808",
            "1e30",
        ];
        for w in sorted.windows(2) {
            assert!(n(w[0]) < n(w[1]), "{} < {}", w[0], w[1]);
            assert!(n(w[1]) > n(w[0]), "{} > {}", w[1], w[0]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn f64_order_and_round_trip(a in any::<f64>(), b in any::<f64>()) {
            prop_assume!(a.is_finite() && b.is_finite());
            let (na, nb) = (Number::from_f64(a).unwrap(), Number::from_f64(b).unwrap());
            prop_assert_eq!(na.as_f64(), if a == 0.0 { 0.0 } else { a });
            prop_assert_eq!(na.cmp(&nb), a.partial_cmp(&b).unwrap());
            prop_assert_eq!(Number::parse(&na.to_string()), Some(na));
        }

        #[test]
        fn i64_order(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(Number::from(a).cmp(&Number::from(b)), a.cmp(&b));
            prop_assert_eq!(n(&a.to_string()), Number::from(a));
        }

        #[test]
        fn decimal_text_round_trips(neg in any::<bool>(), digits in "[0-9]{1,40}", exp in -60i64..60) {
            let text = format!("{}{}e{}", if neg { "-" } else { "" }, digits, exp);
            let v = n(&text);
            prop_assert_eq!(Number::parse(&v.to_string()), Some(v.clone()));
            if let Some(f) = v.to_f64_exact() {
                prop_assert_eq!(Number::from_f64(f), Some(v));
            }
        }
    }
}
