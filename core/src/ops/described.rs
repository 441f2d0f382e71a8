//! The check that holds every operation to its described answers
//! ([`super::responses`]), in debug builds: `ops::call` runs it on every
//! answer, so no answer can hold what is not described.

use super::contract::{self, Members, Presence, Shape};
use super::responses::RESPONSES;

/// Why `value` does not fit `shape`, if it does not.
fn misfit(shape: Shape, value: &crate::json::Value) -> Option<alloc::string::String> {
    use crate::json::Value;
    let ok = match shape {
        Shape::String | Shape::Bytes | Shape::Entropy => value.as_str().is_some(),
        Shape::Integer | Shape::Now => value.as_i64().is_some(),
        Shape::Uint => value.as_u64().is_some(),
        Shape::Boolean => value.as_bool().is_some(),
        Shape::True => value.as_bool() == Some(true),
        Shape::OneOf(words) => value.as_str().is_some_and(|s| words.contains(&s)),
        Shape::Strings => value
            .as_array()
            .is_some_and(|items| items.iter().all(|v| v.as_str().is_some())),
        Shape::Names => {
            value.as_str().is_some()
                || value.as_array().is_some_and(|items| {
                    !items.is_empty() && items.iter().all(|v| v.as_str().is_some())
                })
        }
        Shape::Named(_) => true,
        Shape::Nullable(inner) => {
            return if value.is_null() {
                None
            } else {
                misfit(*inner, value)
            };
        }
        Shape::List(inner) => {
            let Some(items) = value.as_array() else {
                return Some("not a list".into());
            };
            return items.iter().find_map(|item| misfit(*inner, item));
        }
        Shape::Object(members) => {
            let Value::Object(map) = value else {
                return Some("not an object".into());
            };
            return mismatch(members, map);
        }
    };
    (!ok).then(|| alloc::format!("not a {shape:?}"))
}

/// Why `map` does not fit `members`, if it does not.
fn mismatch(members: Members, map: &crate::json::Map) -> Option<alloc::string::String> {
    use alloc::format;
    for (name, value) in map.iter() {
        let Some(member) = contract::find(members, name) else {
            return Some(format!("`{name}` is not declared"));
        };
        if let Some(why) = misfit(member.shape, value) {
            return Some(format!("`{name}`: {why}"));
        }
    }
    let all = members.iter().flat_map(|g| g.iter());
    for member in all {
        let present = map.get(member.name).is_some();
        let why = match member.presence {
            Presence::Required => (!present).then_some("is missing"),
            Presence::Either(other) => match (present, map.get(other).is_some()) {
                (false, false) => Some("is missing, and so is its alternative"),
                (true, true) => Some("is there, and so is its alternative"),
                _ => None,
            },
            Presence::With(other) => {
                (present && map.get(other).is_none()).then_some("is there without its companion")
            }
            Presence::Optional => None,
        };
        if let Some(why) = why {
            return Some(format!("`{}` {why}", member.name));
        }
    }
    None
}

/// Panics unless `response`, the answer of `op`, fits one of its
/// alternatives.
pub(crate) fn assert_described(op: &str, response: &[u8]) {
    let parsed = crate::json::parse_object(response, 64);
    assert!(parsed.is_ok(), "`{op}` answered with no JSON object");
    let Ok(map) = parsed else { return };
    let alternatives = RESPONSES
        .iter()
        .find(|(name, _)| *name == op)
        .map(|(_, a)| *a);
    assert!(alternatives.is_some(), "`{op}` has no response contract");
    let reasons: alloc::vec::Vec<_> = alternatives
        .unwrap_or_default()
        .iter()
        .map(|answer| mismatch(answer.members, &map))
        .collect();
    assert!(
        reasons.iter().any(Option::is_none),
        "`{op}` answered outside its contract: {reasons:?}"
    );
}
