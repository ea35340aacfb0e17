//! IAM condition semantics, written once: what a `Condition` entry
//! (operator, key, values) evaluates to over every request context a rule
//! has to consider.
//!
//! A rule rarely knows the request exactly. It asks instead "may this
//! statement apply to *someone outside the trusted accounts*?" or "does this
//! Deny apply to *every* role session without MFA?". So a context gives,
//! for each condition key, the possibilities of what the request may hold
//! ([`Holds`]): the key absent, exact values, any value outside a trusted
//! set, or anything at all. [`evaluate`] answers with what the condition
//! [`Possible`]y evaluates to; every approximation leans towards "may be
//! either", which every rule reads as "not proved".
//!
//! The semantics follow the IAM User Guide ("Condition operators",
//! "Single-valued vs. multivalued context keys"):
//! - a key absent from the request makes the condition false, except for
//!   negated operators (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, ...),
//!   which are then true; `…IfExists` is true when the key is absent; `Null`
//!   tests presence (`"true"`: the key is absent);
//! - `ForAllValues:` is true on an absent key (every one of no values
//!   matches), `ForAnyValue:` false;
//! - several values for one key are ORed (a negated operator: the request
//!   value matches none of them); several keys and several operators are
//!   ANDed;
//! - `String*` and `Arn*` values with policy variables (`${…}`) are not
//!   resolved here: they may match anything.

use std::collections::BTreeMap;
use std::net::IpAddr;

use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::wildcard_match_case;

/// What evaluating a condition may give over a context's possibilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Possible {
    pub can_be_true: bool,
    pub can_be_false: bool,
}

impl Possible {
    pub const TRUE: Possible = Possible {
        can_be_true: true,
        can_be_false: false,
    };
    pub const FALSE: Possible = Possible {
        can_be_true: false,
        can_be_false: true,
    };
    pub const EITHER: Possible = Possible {
        can_be_true: true,
        can_be_false: true,
    };
    /// The identity of [`Possible::or`].
    const NOTHING: Possible = Possible {
        can_be_true: false,
        can_be_false: false,
    };

    fn of(value: bool) -> Self {
        if value {
            Self::TRUE
        } else {
            Self::FALSE
        }
    }

    fn of_unknown(value: Option<bool>) -> Self {
        value.map_or(Self::EITHER, Self::of)
    }

    /// Either outcome of two alternatives.
    pub fn or(self, other: Possible) -> Possible {
        Possible {
            can_be_true: self.can_be_true || other.can_be_true,
            can_be_false: self.can_be_false || other.can_be_false,
        }
    }

    /// Both conditions at once (keys taken as independent: this may only
    /// overstate `can_be_true`).
    pub fn and(self, other: Possible) -> Possible {
        Possible {
            can_be_true: self.can_be_true && other.can_be_true,
            can_be_false: self.can_be_false || other.can_be_false,
        }
    }

    /// True in every case considered.
    pub fn always(self) -> bool {
        self.can_be_true && !self.can_be_false
    }

    /// False in every case considered.
    pub fn never(self) -> bool {
        !self.can_be_true
    }
}

/// Which values lie outside the trusted set of an [`Holds::Outside`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutsideKind {
    /// An account id.
    Account,
    /// An organization id (`o-…`).
    Organization,
    /// An organization path (`o-…/r-…/ou-…/`): outside when its
    /// organization is.
    OrganizationPath,
    /// An ARN whose account field is outside.
    Arn,
}

/// One possibility of what a request holds for a condition key.
#[derive(Debug, Clone, PartialEq)]
pub enum Holds {
    /// The key is not in the request.
    Absent,
    /// Exactly these values (one, for a single-valued key).
    Values(Vec<String>),
    /// Some value outside `trusted` (account ids or organization ids), as
    /// someone outside could bring: any such value may be there.
    Outside { kind: OutsideKind, trusted: Vec<String> },
    /// Anything, or nothing.
    Any,
}

impl Holds {
    /// One exact value.
    pub fn value(v: impl Into<String>) -> Self {
        Holds::Values(vec![v.into()])
    }
}

/// A request context: the possibilities for each condition key (keys in
/// lower case); keys not named may hold anything.
#[derive(Debug, Clone, Default)]
pub struct Context {
    keys: BTreeMap<String, Vec<Holds>>,
}

impl Context {
    /// A context about which nothing is known.
    pub fn unknown() -> Self {
        Context::default()
    }

    /// Sets the possibilities of one key.
    pub fn with(mut self, key: &str, holds: impl IntoIterator<Item = Holds>) -> Self {
        self.keys.insert(key.to_ascii_lowercase(), holds.into_iter().collect());
        self
    }

    /// The possibilities of `key` (lower case).
    pub fn holds(&self, key: &str) -> &[Holds] {
        const ANY: &[Holds] = &[Holds::Any];
        match self.keys.get(key) {
            Some(h) if !h.is_empty() => h,
            _ => ANY,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOperator {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    String {
        ignore_case: bool,
        like: bool,
    },
    Numeric(Order),
    Date(Order),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
    /// An operator IAM does not define: nothing can be said.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    set: Option<SetOperator>,
    base: Base,
    negated: bool,
    if_exists: bool,
}

impl Operator {
    fn parse(name: &str) -> Operator {
        let lower = name.to_ascii_lowercase();
        let (set, rest) = if let Some(r) = lower.strip_prefix("foranyvalue:") {
            (Some(SetOperator::ForAnyValue), r)
        } else if let Some(r) = lower.strip_prefix("forallvalues:") {
            (Some(SetOperator::ForAllValues), r)
        } else {
            (None, lower.as_str())
        };
        let (rest, if_exists) = match rest.strip_suffix("ifexists") {
            Some(r) if r != "null" => (r, true),
            _ => (rest, false),
        };
        let (base, negated) = match rest {
            "stringequals" => (
                Base::String {
                    ignore_case: false,
                    like: false,
                },
                false,
            ),
            "stringnotequals" => (
                Base::String {
                    ignore_case: false,
                    like: false,
                },
                true,
            ),
            "stringequalsignorecase" => (
                Base::String {
                    ignore_case: true,
                    like: false,
                },
                false,
            ),
            "stringnotequalsignorecase" => (
                Base::String {
                    ignore_case: true,
                    like: false,
                },
                true,
            ),
            "stringlike" => (
                Base::String {
                    ignore_case: false,
                    like: true,
                },
                false,
            ),
            "stringnotlike" => (
                Base::String {
                    ignore_case: false,
                    like: true,
                },
                true,
            ),
            "numericequals" => (Base::Numeric(Order::Equal), false),
            "numericnotequals" => (Base::Numeric(Order::Equal), true),
            "numericlessthan" => (Base::Numeric(Order::Less), false),
            "numericlessthanequals" => (Base::Numeric(Order::LessOrEqual), false),
            "numericgreaterthan" => (Base::Numeric(Order::Greater), false),
            "numericgreaterthanequals" => (Base::Numeric(Order::GreaterOrEqual), false),
            "dateequals" => (Base::Date(Order::Equal), false),
            "datenotequals" => (Base::Date(Order::Equal), true),
            "datelessthan" => (Base::Date(Order::Less), false),
            "datelessthanequals" => (Base::Date(Order::LessOrEqual), false),
            "dategreaterthan" => (Base::Date(Order::Greater), false),
            "dategreaterthanequals" => (Base::Date(Order::GreaterOrEqual), false),
            "bool" => (Base::Bool, false),
            "binaryequals" => (Base::Binary, false),
            "ipaddress" => (Base::Ip, false),
            "notipaddress" => (Base::Ip, true),
            "arnequals" | "arnlike" => (Base::Arn, false),
            "arnnotequals" | "arnnotlike" => (Base::Arn, true),
            "null" => (Base::Null, false),
            _ => (Base::Unknown, false),
        };
        Operator {
            set,
            base,
            negated,
            if_exists,
        }
    }

    fn on(&self, values: &[String], holds: &Holds) -> Possible {
        if self.base == Base::Unknown {
            return Possible::EITHER;
        }
        if self.base == Base::Null {
            // "true": the key is absent; "false": it is present.
            let wants_absent = |absent: bool| {
                values
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(if absent { "true" } else { "false" }))
            };
            return match holds {
                Holds::Absent => Possible::of(wants_absent(true)),
                Holds::Values(_) | Holds::Outside { .. } => Possible::of(wants_absent(false)),
                Holds::Any => Possible::EITHER,
            };
        }
        match holds {
            Holds::Absent => Possible::of(match (self.if_exists, self.set) {
                (true, _) | (false, Some(SetOperator::ForAllValues)) => true,
                (false, Some(SetOperator::ForAnyValue)) => false,
                (false, None) => self.negated,
            }),
            Holds::Values(request) => {
                let each = request.iter().map(|r| self.matches_one(values, r));
                Possible::of_unknown(match self.set {
                    Some(SetOperator::ForAllValues) => all(each),
                    None | Some(SetOperator::ForAnyValue) => any(each),
                })
            }
            Holds::Outside { kind, trusted } => {
                if !matches!(self.base, Base::String { .. } | Base::Arn) {
                    return Possible::EITHER;
                }
                let reachable = values.iter().any(|v| outside_may_match(*kind, trusted, v, self.base));
                if self.negated {
                    Possible {
                        can_be_true: true,
                        can_be_false: reachable,
                    }
                } else {
                    Possible {
                        can_be_true: reachable,
                        can_be_false: true,
                    }
                }
            }
            Holds::Any => Possible::EITHER,
        }
    }

    /// Whether one request value satisfies the operator (`None`: cannot tell).
    fn matches_one(&self, values: &[String], request: &str) -> Option<bool> {
        let positive = any(values.iter().map(|v| base_match(self.base, v, request)))?;
        Some(positive != self.negated)
    }
}

fn any(items: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for i in items {
        match i {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(false)
    }
}

fn all(items: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for i in items {
        match i {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    if unknown {
        None
    } else {
        Some(true)
    }
}

fn has_variable(v: &str) -> bool {
    v.contains("${")
}

/// Whether the policy value `v` matches the request value `r` under the
/// operator's base (not negated).
fn base_match(base: Base, v: &str, r: &str) -> Option<bool> {
    match base {
        Base::String { ignore_case, like } => {
            if has_variable(v) {
                return None;
            }
            Some(match (like, ignore_case) {
                (true, _) => wildcard_match_case(v, r, true),
                (false, true) => v.eq_ignore_ascii_case(r),
                (false, false) => v == r,
            })
        }
        Base::Arn => {
            if has_variable(v) {
                return None;
            }
            Some(arn_match(v, r))
        }
        Base::Numeric(order) => {
            let (a, b) = (r.trim().parse::<f64>().ok()?, v.trim().parse::<f64>().ok()?);
            Some(compare(order, a.partial_cmp(&b)?))
        }
        Base::Date(order) => {
            let (a, b) = (date(r)?, date(v)?);
            Some(compare(order, a.cmp(&b)))
        }
        Base::Bool => Some(v.eq_ignore_ascii_case(r)),
        Base::Binary => Some(v == r),
        Base::Ip => ip_in(v, r),
        Base::Null | Base::Unknown => None,
    }
}

fn compare(order: Order, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match order {
        Order::Equal => ord == Equal,
        Order::Less => ord == Less,
        Order::LessOrEqual => ord != Greater,
        Order::Greater => ord == Greater,
        Order::GreaterOrEqual => ord != Less,
    }
}

/// A date as IAM reads it: ISO 8601 or seconds since the epoch.
fn date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return Some(secs);
    }
    DateTime::from_str(s, Format::DateTime).ok().map(|d| d.secs())
}

/// Whether IP `r` lies in `v` (an address or a CIDR block).
fn ip_in(v: &str, r: &str) -> Option<bool> {
    let ip: IpAddr = r.trim().parse().ok()?;
    let (net, bits) = match v.trim().split_once('/') {
        Some((n, b)) => (n.parse::<IpAddr>().ok()?, b.parse::<u32>().ok()?),
        None => {
            let n: IpAddr = v.trim().parse().ok()?;
            (n, if n.is_ipv4() { 32 } else { 128 })
        }
    };
    Some(match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    })
}

/// `ArnLike`: each of the six colon-separated fields matched on its own,
/// with wildcards, case-sensitively.
fn arn_match(pattern: &str, arn: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    if p.len() != 6 || a.len() != 6 {
        return wildcard_match_case(pattern, arn, true);
    }
    p.iter().zip(&a).all(|(p, a)| wildcard_match_case(p, a, true))
}

fn is_literal(v: &str, base: Base) -> bool {
    let wildcards = matches!(base, Base::Arn | Base::String { like: true, .. });
    let pattern = wildcards && v.contains(['*', '?']);
    !has_variable(v) && !pattern
}

/// Whether policy value `v` may match some value outside `trusted`.
fn outside_may_match(kind: OutsideKind, trusted: &[String], v: &str, base: Base) -> bool {
    let trusted_literal = |field: &str| {
        is_literal(field, base)
            && trusted.iter().any(|t| match base {
                Base::String { ignore_case: true, .. } => t.eq_ignore_ascii_case(field),
                _ => t == field,
            })
    };
    match kind {
        OutsideKind::Account | OutsideKind::Organization => !trusted_literal(v),
        OutsideKind::OrganizationPath => !trusted_literal(v.split('/').next().unwrap_or(v)),
        OutsideKind::Arn => match v.split(':').nth(4) {
            Some(account) if v.starts_with("arn:") => !trusted_literal(account),
            _ => true,
        },
    }
}

/// What one condition entry evaluates to over the possibilities `holds`
/// of its key (no possibility: anything).
pub fn evaluate(operator: &str, values: &[String], holds: &[Holds]) -> Possible {
    let op = Operator::parse(operator);
    if holds.is_empty() {
        return op.on(values, &Holds::Any);
    }
    holds.iter().fold(Possible::NOTHING, |acc, h| acc.or(op.on(values, h)))
}

/// What a `Condition` block (operator → key → values) evaluates to in
/// `context`: every entry must hold.
pub fn evaluate_block(conditions: &BTreeMap<String, BTreeMap<String, Vec<String>>>, context: &Context) -> Possible {
    conditions
        .iter()
        .flat_map(|(op, keys)| keys.iter().map(move |(key, values)| (op, key, values)))
        .fold(Possible::TRUE, |acc, (op, key, values)| {
            acc.and(evaluate(op, values, context.holds(key)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn ip_blocks() {
        assert_eq!(ip_in("10.0.0.0/8", "10.2.3.4"), Some(true));
        assert_eq!(ip_in("10.0.0.0/8", "11.2.3.4"), Some(false));
        assert_eq!(ip_in("2001:db8::/32", "2001:db8::1"), Some(true));
        assert_eq!(ip_in("192.0.2.1", "192.0.2.1"), Some(true));
        assert_eq!(ip_in("nonsense", "192.0.2.1"), None);
    }

    #[test]
    fn arns_match_field_by_field() {
        assert!(arn_match(
            "arn:aws:iam::*:role/Admin",
            "arn:aws:iam::111122223333:role/Admin"
        ));
        assert!(!arn_match(
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::999988887777:role/x"
        ));
        assert!(arn_match(
            "arn:aws:logs:*:111122223333:*",
            "arn:aws:logs:eu-west-1:111122223333:log-group:a:*"
        ));
    }

    #[test]
    fn outside_values() {
        let trusted = v(&["111122223333"]);
        let outside = |op: &str, vals: &[&str]| {
            evaluate(
                op,
                &v(vals),
                &[Holds::Outside {
                    kind: OutsideKind::Account,
                    trusted: trusted.clone(),
                }],
            )
        };
        assert!(outside("StringEquals", &["111122223333"]).never());
        assert!(!outside("StringEquals", &["999988887777"]).never());
        assert!(!outside("StringLike", &["1111*"]).never());
        assert!(outside("StringNotEquals", &["111122223333"]).always());
        assert_eq!(outside("NumericEquals", &["1"]), Possible::EITHER);
    }
}
