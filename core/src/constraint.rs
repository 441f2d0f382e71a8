//! The constraint kinds, in one table.
//!
//! Each kind says, in one place, how it is read from and written to JSON,
//! how it limits a request (checked against the request's context), when
//! one value is at least as strict as another (cover, for delegation), how
//! two values combine (meet, for `min()`), and what it weighs in a policy
//! evaluation's step budget. Claims, scope and policy loop over [`KINDS`];
//! adding a kind is one entry here, its field in [`Constraints`] and, if it
//! reads a new fact, its member in [`Context`]. A kind not in the table is
//! kept verbatim (`Constraints::other`) and fails closed.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{ClaimsError, ScopeError};
use crate::json::{MAX_SAFE_INTEGER, Map, Value};
use crate::pattern;

/// Why an unknown constraint kind or extra claim with such numbers is refused.
pub(crate) const UNSAFE_NUMBERS: &str =
    "numbers must be integers within ±(2^53-1), which every JSON reader keeps exactly";

/// What a capability allows beyond action and resource. An open set: kinds
/// this version does not know are kept in `other`, and authorization fails
/// closed on them.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Constraints {
    /// Domain patterns the holder may act on (`*.example.com`).
    pub domains: Option<Vec<String>>,
    /// Largest purchase allowed, in minor currency units.
    pub max_purchase: Option<u64>,
    /// Whether personal data may be touched.
    pub pii_access: Option<bool>,
    /// Rooms the holder may act in.
    pub rooms: Option<Vec<String>>,
    /// Tools the holder may use.
    pub tools: Option<Vec<String>>,
    /// Constraint kinds unknown to this version, preserved verbatim.
    pub other: Map,
}

/// Most entries in one list of a capability (actions, resources, domains,
/// rooms, tools), and most capabilities in one list. Comparing grants is
/// quadratic in list sizes; these bounds keep every comparison cheap
/// whatever a request or token contains.
pub const MAX_LIST_LEN: usize = 64;

pub(crate) fn string_list(v: &Value, path: &str) -> Result<Vec<String>, ClaimsError> {
    if v.as_array().is_some_and(|items| items.len() > MAX_LIST_LEN) {
        return Err(ClaimsError::invalid(
            path,
            format!("must have at most {MAX_LIST_LEN} entries"),
        ));
    }
    let items = v
        .as_array()
        .ok_or_else(|| ClaimsError::invalid(path, "must be a list of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str()
                .map(String::from)
                .ok_or_else(|| ClaimsError::invalid(format!("{path}[{i}]"), "must be a string"))
        })
        .collect()
}

// Hand-written readers and writers rather than serde derives: the derive for
// `#[serde(flatten)]` buffers through serde's generic content type, which
// cost the `.wasm` several kilobytes, and these give errors a precise path.
impl Constraints {
    /// Whether no constraint is set.
    pub fn is_empty(&self) -> bool {
        *self == Constraints::default()
    }

    /// Read constraints from JSON; `path` locates them in error messages.
    ///
    /// # Errors
    /// [`ClaimsError::Invalid`] naming the first malformed constraint. A
    /// `null` is refused: read as "absent" it would silently drop a limit.
    pub fn from_json(v: &Value, path: &str) -> Result<Self, ClaimsError> {
        let map = v
            .as_object()
            .ok_or_else(|| ClaimsError::invalid(path, "must be an object"))?;
        let mut c = Constraints::default();
        for (kind, value) in map {
            let at = format!("{path}.{kind}");
            if value.is_null() {
                return Err(ClaimsError::invalid(at, "must not be null"));
            }
            match crate::constraint::kind(kind) {
                Some(known) => known.read(&mut c, value, &at)?,
                None => {
                    if !crate::json::numbers_are_safe(value) {
                        return Err(ClaimsError::invalid(&at, UNSAFE_NUMBERS));
                    }
                    c.other.insert(kind.clone(), value.clone());
                }
            }
        }
        Ok(c)
    }

    /// The constraints as a JSON object (absent kinds omitted).
    pub fn to_json(&self) -> Map {
        let mut map = self.other.clone();
        for kind in crate::constraint::KINDS {
            kind.write(self, &mut map);
        }
        map
    }
}

/// What a request does, beyond its action and resource: the facts the
/// constraints are checked against. Unknown members are refused, so a typo
/// (`purchse_amount`) can never slip past a limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Context {
    /// The domain the action targets (checked against `domains`).
    pub domain: Option<String>,
    /// Amount the action spends, in minor units; absent means nothing is
    /// spent (checked against `max_purchase`).
    pub purchase_amount: Option<u64>,
    /// Whether personal data is touched; absent means not (checked against
    /// `pii_access`).
    pub pii: Option<bool>,
    /// The room the action happens in (checked against `rooms`).
    pub room: Option<String>,
    /// The tool the action uses (checked against `tools`).
    pub tool: Option<String>,
}

impl Context {
    /// Read a context from JSON.
    ///
    /// # Errors
    /// [`ScopeError::BadContext`] for unknown members or wrong types.
    pub fn from_json(value: Value) -> Result<Self, ScopeError> {
        let Value::Object(map) = value else {
            return Err(ScopeError::BadContext(
                "the context must be an object".into(),
            ));
        };
        let mut ctx = Context::default();
        for (member, v) in map {
            // Refused rather than read as absent: JSON.stringify turns NaN
            // into null, and `purchase_amount: NaN` must not mean "free".
            if v.is_null() {
                return Err(ScopeError::BadContext(format!(
                    "`{member}` must not be null"
                )));
            }
            let bad = |what: &str| ScopeError::BadContext(format!("`{member}` must be {what}"));
            match member.as_str() {
                "domain" => ctx.domain = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "room" => ctx.room = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "tool" => ctx.tool = Some(v.as_str().ok_or_else(|| bad("a string"))?.into()),
                "pii" => ctx.pii = Some(v.as_bool().ok_or_else(|| bad("a boolean"))?),
                "purchase_amount" => {
                    ctx.purchase_amount =
                        Some(v.as_u64().ok_or_else(|| bad("a non-negative integer"))?);
                }
                _ => return Err(ScopeError::BadContext(format!("unknown member `{member}`"))),
            }
        }
        Ok(ctx)
    }
}

/// One constraint kind's behaviour. Every method reads or writes only its
/// own kind's field.
pub(crate) trait Kind: Sync {
    /// The member name in a capability's `constraints`.
    fn name(&self) -> &'static str;
    /// Read the kind's JSON value (never `null`) into `c`; `at` is its path.
    fn read(&self, c: &mut Constraints, value: &Value, at: &str) -> Result<(), ClaimsError>;
    /// Write the kind's value, if set, into `out`.
    fn write(&self, c: &Constraints, out: &mut Map);
    /// What is wrong with the value, if anything, beyond what reading it
    /// checks (a pattern's syntax), or what a value built in code rather
    /// than read may get wrong (a range).
    fn fault(&self, c: &Constraints) -> Option<Fault>;
    /// Refuse `ctx` if the kind, set in `c`, does not allow it. `path` is
    /// the kind's path in the token (`caps[i].constraints.<kind>`).
    fn check(&self, c: &Constraints, ctx: &Context, path: &str) -> Result<(), ScopeError>;
    /// Whether `inner`'s value is at least as strict as `outer`'s.
    fn covers(&self, outer: &Constraints, inner: &Constraints) -> bool;
    /// Set `out`'s value to what both `a` and `b` impose.
    fn meet(&self, a: &Constraints, b: &Constraints, out: &mut Constraints);
    /// Whether the value allows nothing at all (an empty allow-list).
    fn allows_nothing(&self, c: &Constraints) -> bool;
    /// Strings the value holds: a comparison costs about one step each.
    fn weight(&self, c: &Constraints) -> usize;
}

/// What is wrong with a constraint's value.
pub(crate) enum Fault {
    /// A pattern that is not well-formed, at `at` below the kind (`[3]`).
    Pattern { at: String, pattern: String },
    /// A value out of range.
    Range(&'static str),
}

/// Every kind, in the order requests are checked against them.
pub(crate) const KINDS: [&dyn Kind; 5] = [&DOMAINS, &MAX_PURCHASE, &PII_ACCESS, &ROOMS, &TOOLS];

/// The kind called `name`.
pub(crate) fn kind(name: &str) -> Option<&'static dyn Kind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

fn list(l: &[String]) -> Value {
    Value::Array(l.iter().cloned().map(Value::String).collect())
}

/// An absent limit allows everything: `outer` unset covers anything, a set
/// `outer` is covered only by a set `inner` that `covers` says is stricter.
fn cover_opt<T>(outer: &Option<T>, inner: &Option<T>, covers: impl Fn(&T, &T) -> bool) -> bool {
    match (outer, inner) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(o), Some(i)) => covers(o, i),
    }
}

/// Both limits at once: one set is kept, two are combined by `both`.
fn meet_opt<T: Clone>(a: &Option<T>, b: &Option<T>, both: impl Fn(&T, &T) -> T) -> Option<T> {
    match (a, b) {
        (None, None) => None,
        (Some(x), None) | (None, Some(x)) => Some(x.clone()),
        (Some(x), Some(y)) => Some(both(x, y)),
    }
}

// ---------------------------------------------------------------------------
// `domains`: domain patterns (`*.example.com`) the request's `domain` must match.

struct Domains;
const DOMAINS: Domains = Domains;

impl Kind for Domains {
    fn name(&self) -> &'static str {
        "domains"
    }
    fn read(&self, c: &mut Constraints, value: &Value, at: &str) -> Result<(), ClaimsError> {
        c.domains = Some(string_list(value, at)?);
        Ok(())
    }
    fn write(&self, c: &Constraints, out: &mut Map) {
        if let Some(d) = &c.domains {
            out.insert(self.name().into(), list(d));
        }
    }
    fn fault(&self, c: &Constraints) -> Option<Fault> {
        let (j, p) = c
            .domains
            .iter()
            .flatten()
            .enumerate()
            .find(|(_, p)| !pattern::valid_domain_pattern(p))?;
        Some(Fault::Pattern {
            at: format!("[{j}]"),
            pattern: p.clone(),
        })
    }
    fn check(&self, c: &Constraints, ctx: &Context, path: &str) -> Result<(), ScopeError> {
        let Some(patterns) = &c.domains else {
            return Ok(());
        };
        let domain = ctx
            .domain
            .as_deref()
            .ok_or_else(|| ScopeError::MissingContext {
                path: path.into(),
                member: "domain",
            })?;
        if pattern::domain_allowed(patterns, domain)? {
            Ok(())
        } else {
            Err(ScopeError::ConstraintViolated {
                path: path.into(),
                reason: format!("domain `{domain}` is not allowed"),
            })
        }
    }
    fn covers(&self, outer: &Constraints, inner: &Constraints) -> bool {
        cover_opt(&outer.domains, &inner.domains, |o, i| {
            pattern::patterns_cover(o, i, pattern::domain_covers)
        })
    }
    fn meet(&self, a: &Constraints, b: &Constraints, out: &mut Constraints) {
        out.domains = meet_opt(&a.domains, &b.domains, |x, y| {
            pattern::meet_patterns(x, y, pattern::domain_covers)
        });
    }
    fn allows_nothing(&self, c: &Constraints) -> bool {
        c.domains.as_ref().is_some_and(Vec::is_empty)
    }
    fn weight(&self, c: &Constraints) -> usize {
        c.domains.as_ref().map_or(0, Vec::len)
    }
}

// ---------------------------------------------------------------------------
// `max_purchase`: the most the request's `purchase_amount` may spend.

struct MaxPurchase;
const MAX_PURCHASE: MaxPurchase = MaxPurchase;

/// The largest limit a token can carry: JSON numbers are exact to 2^53-1.
const MAX_LIMIT: u64 = MAX_SAFE_INTEGER as u64;

impl Kind for MaxPurchase {
    fn name(&self) -> &'static str {
        "max_purchase"
    }
    fn read(&self, c: &mut Constraints, value: &Value, at: &str) -> Result<(), ClaimsError> {
        let max = value
            .as_u64()
            .filter(|m| *m <= MAX_LIMIT)
            .ok_or_else(|| ClaimsError::invalid(at, "must be an integer in 0..=2^53-1"))?;
        c.max_purchase = Some(max);
        Ok(())
    }
    fn write(&self, c: &Constraints, out: &mut Map) {
        if let Some(m) = c.max_purchase {
            out.insert(self.name().into(), m.into());
        }
    }
    fn fault(&self, c: &Constraints) -> Option<Fault> {
        c.max_purchase
            .is_some_and(|m| m > MAX_LIMIT)
            .then_some(Fault::Range("must be at most 2^53-1"))
    }
    fn check(&self, c: &Constraints, ctx: &Context, path: &str) -> Result<(), ScopeError> {
        let Some(max) = c.max_purchase else {
            return Ok(());
        };
        // Absent: nothing is spent.
        let amount = ctx.purchase_amount.unwrap_or(0);
        if amount > max {
            return Err(ScopeError::ConstraintViolated {
                path: path.into(),
                reason: format!("purchase of {amount} exceeds the limit of {max}"),
            });
        }
        Ok(())
    }
    fn covers(&self, outer: &Constraints, inner: &Constraints) -> bool {
        cover_opt(&outer.max_purchase, &inner.max_purchase, |o, i| i <= o)
    }
    fn meet(&self, a: &Constraints, b: &Constraints, out: &mut Constraints) {
        out.max_purchase = meet_opt(&a.max_purchase, &b.max_purchase, |x, y| *x.min(y));
    }
    fn allows_nothing(&self, _: &Constraints) -> bool {
        false
    }
    fn weight(&self, _: &Constraints) -> usize {
        0
    }
}

// ---------------------------------------------------------------------------
// `pii_access`: `false` refuses a request that touches personal data.

struct PiiAccess;
const PII_ACCESS: PiiAccess = PiiAccess;

impl Kind for PiiAccess {
    fn name(&self) -> &'static str {
        "pii_access"
    }
    fn read(&self, c: &mut Constraints, value: &Value, at: &str) -> Result<(), ClaimsError> {
        let b = value
            .as_bool()
            .ok_or_else(|| ClaimsError::invalid(at, "must be a boolean"))?;
        c.pii_access = Some(b);
        Ok(())
    }
    fn write(&self, c: &Constraints, out: &mut Map) {
        if let Some(p) = c.pii_access {
            out.insert(self.name().into(), p.into());
        }
    }
    fn fault(&self, _: &Constraints) -> Option<Fault> {
        None
    }
    fn check(&self, c: &Constraints, ctx: &Context, path: &str) -> Result<(), ScopeError> {
        if c.pii_access == Some(false) && ctx.pii == Some(true) {
            return Err(ScopeError::ConstraintViolated {
                path: path.into(),
                reason: "personal data may not be accessed".into(),
            });
        }
        Ok(())
    }
    fn covers(&self, outer: &Constraints, inner: &Constraints) -> bool {
        // Only `false` limits anything (`true` and absent allow alike).
        outer.pii_access != Some(false) || inner.pii_access == Some(false)
    }
    fn meet(&self, a: &Constraints, b: &Constraints, out: &mut Constraints) {
        out.pii_access = meet_opt(&a.pii_access, &b.pii_access, |x, y| *x && *y);
    }
    fn allows_nothing(&self, _: &Constraints) -> bool {
        false
    }
    fn weight(&self, _: &Constraints) -> usize {
        0
    }
}

// ---------------------------------------------------------------------------
// `rooms`, `tools`: exact allow-lists for one fact of the request's context.

struct AllowList {
    name: &'static str,
    /// The context member it is checked against.
    member: &'static str,
    field: fn(&Constraints) -> &Option<Vec<String>>,
    field_mut: fn(&mut Constraints) -> &mut Option<Vec<String>>,
    fact: fn(&Context) -> Option<&str>,
}

const ROOMS: AllowList = AllowList {
    name: "rooms",
    member: "room",
    field: |c| &c.rooms,
    field_mut: |c| &mut c.rooms,
    fact: |ctx| ctx.room.as_deref(),
};

const TOOLS: AllowList = AllowList {
    name: "tools",
    member: "tool",
    field: |c| &c.tools,
    field_mut: |c| &mut c.tools,
    fact: |ctx| ctx.tool.as_deref(),
};

impl Kind for AllowList {
    fn name(&self) -> &'static str {
        self.name
    }
    fn read(&self, c: &mut Constraints, value: &Value, at: &str) -> Result<(), ClaimsError> {
        *(self.field_mut)(c) = Some(string_list(value, at)?);
        Ok(())
    }
    fn write(&self, c: &Constraints, out: &mut Map) {
        if let Some(l) = (self.field)(c) {
            out.insert(self.name.into(), list(l));
        }
    }
    fn fault(&self, _: &Constraints) -> Option<Fault> {
        None
    }
    fn check(&self, c: &Constraints, ctx: &Context, path: &str) -> Result<(), ScopeError> {
        let Some(allowed) = (self.field)(c) else {
            return Ok(());
        };
        let value = (self.fact)(ctx).ok_or_else(|| ScopeError::MissingContext {
            path: path.into(),
            member: self.member,
        })?;
        if !allowed.iter().any(|a| a == value) {
            return Err(ScopeError::ConstraintViolated {
                path: path.into(),
                reason: format!("{} `{value}` is not allowed", self.member),
            });
        }
        Ok(())
    }
    fn covers(&self, outer: &Constraints, inner: &Constraints) -> bool {
        cover_opt((self.field)(outer), (self.field)(inner), |o, i| {
            i.iter().all(|x| o.contains(x))
        })
    }
    fn meet(&self, a: &Constraints, b: &Constraints, out: &mut Constraints) {
        *(self.field_mut)(out) = meet_opt((self.field)(a), (self.field)(b), |x, y| {
            let mut both: Vec<String> = x.iter().filter(|v| y.contains(v)).cloned().collect();
            both.sort();
            both.dedup();
            both
        });
    }
    fn allows_nothing(&self, c: &Constraints) -> bool {
        (self.field)(c).as_ref().is_some_and(Vec::is_empty)
    }
    fn weight(&self, c: &Constraints) -> usize {
        (self.field)(c).as_ref().map_or(0, Vec::len)
    }
}
