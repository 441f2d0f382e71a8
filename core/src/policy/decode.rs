//! Reading policy documents: their shape, with a path for every fault,
//! and what the shape cannot say.

use super::*;

// ---------------------------------------------------------------------------
// Decoding: the shape of the documents, with a path for every fault

/// A shape fault, before it is known whether it is a policy's or a request's.
pub(super) struct Fault {
    path: String,
    reason: String,
}

impl Fault {
    pub(super) fn policy(self) -> PolicyError {
        PolicyError::Invalid {
            path: self.path,
            reason: self.reason,
        }
    }
    pub(super) fn request(self) -> PolicyError {
        PolicyError::BadRequest {
            path: self.path,
            reason: self.reason,
        }
    }
}

pub(super) fn fault(path: impl Into<String>, reason: impl Into<String>) -> Fault {
    Fault {
        path: path.into(),
        reason: reason.into(),
    }
}

pub(super) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map, Fault> {
    v.as_object()
        .ok_or_else(|| fault(path, "must be an object"))
}

/// Refuse members the format does not define: a misspelt `max_ttl` must not
/// leave a rule uncapped.
pub(super) fn only(map: &Map, path: &str, known: &[&str]) -> Result<(), Fault> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(fault(member(path, k), "unknown member")),
        None => Ok(()),
    }
}

pub(super) fn required<'a>(map: &'a Map, path: &str, key: &str) -> Result<&'a Value, Fault> {
    map.get(key)
        .ok_or_else(|| fault(member(path, key), "is required"))
}

pub(super) fn string(v: &Value, path: &str) -> Result<String, Fault> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| fault(path, "must be a string"))
}

pub(super) fn strings(v: &Value, path: &str) -> Result<Vec<String>, Fault> {
    let items = v
        .as_array()
        .ok_or_else(|| fault(path, "must be a list of strings"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, x)| string(x, &index(path, i)))
        .collect()
}

pub(super) fn seconds(v: &Value, path: &str) -> Result<u64, Fault> {
    v.as_u64()
        .ok_or_else(|| fault(path, "must be an integer number of seconds"))
}

pub(super) fn constraints(v: &Value, path: &str) -> Result<Constraints, Fault> {
    Constraints::from_json(v, path).map_err(claims_fault)
}

/// A claims-level error as a policy fault at the same path.
pub(super) fn claims_fault(err: ClaimsError) -> Fault {
    match err {
        ClaimsError::Invalid { path, reason } => fault(path, reason),
        other => fault("", other.to_string()),
    }
}

/// Capabilities are read by the one reader the token schema uses
/// (`Capability::list_from_json`), so a policy and a token can never
/// disagree about what a capability is.
pub(super) fn capabilities(v: &Value, path: &str) -> Result<Vec<Capability>, Fault> {
    Capability::list_from_json(v, path).map_err(claims_fault)
}

pub(super) fn subjects(v: &Value, path: &str) -> Result<Subjects, Fault> {
    let map = object(v, path)?;
    only(map, path, &["ids", "patterns", "attributes"])?;
    // Present-but-empty is refused here, where it can still be told apart
    // from absent: `"ids": []` reads as a matcher but matches nobody.
    let list = |key: &str| -> Result<Vec<String>, Fault> {
        let Some(v) = map.get(key) else {
            return Ok(Vec::new());
        };
        let at = member(path, key);
        let items = strings(v, &at)?;
        if items.is_empty() {
            return Err(fault(at, "must be a non-empty list"));
        }
        Ok(items)
    };
    let mut attributes = BTreeMap::new();
    if let Some(a) = map.get("attributes") {
        let at = member(path, "attributes");
        let a = object(a, &at)?;
        if a.is_empty() {
            return Err(fault(at, "must name at least one attribute"));
        }
        for (name, values) in a {
            attributes.insert(name.clone(), strings(values, &member(&at, name))?);
        }
    }
    Ok(Subjects {
        ids: list("ids")?,
        patterns: list("patterns")?,
        attributes,
    })
}

pub(super) fn rule(v: &Value, path: &str) -> Result<Rule, Fault> {
    let map = object(v, path)?;
    only(
        map,
        path,
        &[
            "id",
            "effect",
            "subjects",
            "capabilities",
            "required_constraints",
            "max_ttl",
            "bearer",
        ],
    )?;
    let at = |key: &str| member(path, key);
    let effect = match required(map, path, "effect")?.as_str() {
        Some("allow") => Effect::Allow,
        Some("deny") => Effect::Deny,
        _ => return Err(fault(at("effect"), "must be `allow` or `deny`")),
    };
    Ok(Rule {
        id: string(required(map, path, "id")?, &at("id"))?,
        effect,
        subjects: subjects(required(map, path, "subjects")?, &at("subjects"))?,
        capabilities: capabilities(required(map, path, "capabilities")?, &at("capabilities"))?,
        required_constraints: match map.get("required_constraints") {
            Some(c) => constraints(c, &at("required_constraints"))?,
            None => Constraints::default(),
        },
        max_ttl: map
            .get("max_ttl")
            .map(|t| seconds(t, &at("max_ttl")))
            .transpose()?,
        bearer_max_ttl: match map.get("bearer") {
            None => None,
            Some(b) => {
                let path = at("bearer");
                let bearer = object(b, &path)?;
                only(bearer, &path, &["max_ttl"])?;
                let ttl = required(bearer, &path, "max_ttl")?;
                Some(seconds(ttl, &member(&path, "max_ttl"))?)
            }
        },
    })
}

// ---------------------------------------------------------------------------
// Validation: what the shape cannot say

pub(super) fn check_ttl(ttl: u64, path: &str) -> Result<(), PolicyError> {
    if ttl == 0 || ttl > MAX_SAFE_INTEGER as u64 {
        return Err(PolicyError::Invalid {
            path: path.to_owned(),
            reason: "must be an integer number of seconds in 1..=2^53-1".into(),
        });
    }
    Ok(())
}

/// Check capabilities as a token would carry them: patterns by
/// `scope::validate_caps`, schema by the claims checks the issuer runs, and
/// no unknown constraint kinds. Both report paths under a token's `caps`
/// (or `from`); they are re-rooted at `to`.
pub(super) fn check_caps(caps: &[Capability], from: &str, to: &str) -> Result<(), PolicyError> {
    let at = |p: &str| rebase(p, from, to);
    scope::validate_caps(caps).map_err(|e| match e {
        ScopeError::BadPattern { path, pattern } => PolicyError::BadPattern {
            path: at(&path),
            pattern,
        },
        other => PolicyError::Invalid {
            path: to.to_owned(),
            reason: other.to_string(),
        },
    })?;
    for (j, cap) in caps.iter().enumerate() {
        if let Some(kind) = cap.constraints.other.keys().next() {
            return Err(PolicyError::UnknownConstraint {
                path: at(&member(&format!("caps[{j}].constraints"), kind)),
            });
        }
    }
    claims::check_caps(caps).map_err(|e| match e {
        ClaimsError::Invalid { path, reason } => PolicyError::Invalid {
            path: at(&path),
            reason,
        },
        other => PolicyError::Invalid {
            path: to.to_owned(),
            reason: other.to_string(),
        },
    })
}

/// A constraint merge failed. Only unknown kinds can make it fail, and
/// those are refused at load and in requests, so this is defence in depth.
pub(super) fn merge_error(err: &ScopeError, path: &str) -> PolicyError {
    PolicyError::UnknownConstraint {
        path: member(path, err.path().unwrap_or("constraints")),
    }
}
