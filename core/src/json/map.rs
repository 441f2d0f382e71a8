//! Objects: a vector sorted by key, so every object prints sorted.

use super::*;

/// A JSON object: members sorted by key (byte order), keys unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Map {
    members: Vec<(String, Value)>,
}

impl Map {
    /// An empty object.
    pub fn new() -> Self {
        Map::default()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.members
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
    }

    /// Make room for `additional` more members.
    pub fn reserve(&mut self, additional: usize) {
        self.members.reserve(additional);
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key).ok()?;
        self.members.get(i).map(|(_, v)| v)
    }

    /// The member `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.find(key).ok()?;
        self.members.get_mut(i).map(|(_, v)| v)
    }

    /// Whether `key` is a member.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Set `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        // Objects are mostly built in key order (claims, and every text this
        // crate printed), so appending is checked first: one comparison
        // instead of a binary search.
        if self
            .members
            .last()
            .is_none_or(|(last, _)| last.as_bytes() < key.as_bytes())
        {
            self.members.push((key, value));
            return None;
        }
        match self.find(&key) {
            Ok(i) => self
                .members
                .get_mut(i)
                .map(|slot| core::mem::replace(&mut slot.1, value)),
            Err(i) => {
                self.members.insert(i, (key, value));
                None
            }
        }
    }

    /// The member `key`, inserted as `null` if absent.
    pub fn entry(&mut self, key: &str) -> &mut Value {
        let i = match self.find(key) {
            Ok(i) => i,
            Err(i) => {
                self.members.insert(i, (key.to_owned(), Value::Null));
                i
            }
        };
        #[allow(clippy::indexing_slicing)] // in bounds: found, or inserted at `i`
        &mut self.members[i].1
    }

    /// Remove `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key).ok()?;
        Some(self.members.remove(i).1)
    }

    /// The members in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.members.iter())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.members.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.members.iter().map(|(_, v)| v)
    }

    /// Build from members that may repeat a key: the first repeated key is
    /// the error.
    pub(super) fn from_members(mut members: Vec<(String, Value)>) -> Result<Map, String> {
        members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if let Some(w) = members
            .windows(2)
            .find(|w| matches!(w, [a, b] if a.0 == b.0))
        {
            return Err(w.first().map(|(k, _)| k.clone()).unwrap_or_default());
        }
        Ok(Map { members })
    }
}

/// Members of a [`Map`] by reference, in key order.
pub struct Iter<'a>(core::slice::Iter<'a, (String, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a Value);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = alloc::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

/// Later members replace earlier ones with the same key.
impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut map = Map::new();
        map.extend(iter);
        map
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}
