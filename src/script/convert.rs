//! Conversions between domain values and Rhai values, and typed reading of option maps
//! (`#{partitions: 3}`) with errors that name the function and the option.

use rhai::{Dynamic, EvalAltResult, Map};
use serde::Serialize;

/// A domain value as a Rhai value (maps and arrays).
pub fn to_dynamic<T: Serialize>(value: &T) -> Result<Dynamic, Box<EvalAltResult>> {
    rhai::serde::to_dynamic(value)
}

/// A domain list as a Rhai array.
pub fn to_array<T: Serialize>(value: &T) -> Result<rhai::Array, Box<EvalAltResult>> {
    let d = rhai::serde::to_dynamic(value)?;
    d.into_array()
        .map_err(|t| format!("internal: expected a list, got {t}").into())
}

/// A domain record as a Rhai map.
pub fn to_map<T: Serialize>(value: &T) -> Result<Map, Box<EvalAltResult>> {
    let d = rhai::serde::to_dynamic(value)?;
    d.try_cast::<Map>()
        .ok_or_else(|| "internal: expected a record".into())
}

/// Reads option maps for one function, refusing unknown keys.
pub struct Options<'a> {
    fn_name: &'a str,
    map: &'a Map,
}

impl<'a> Options<'a> {
    /// Checks that `map` has only `known` keys.
    pub fn new(fn_name: &'a str, map: &'a Map, known: &[&str]) -> Result<Self, Box<EvalAltResult>> {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                return Err(format!(
                    "{fn_name}: unknown option {:?} (known: {})",
                    key.as_str(),
                    known.join(", ")
                )
                .into());
            }
        }
        Ok(Options { fn_name, map })
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) if v.is_unit() => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .map_err(|t| self.type_error(key, "a bool", t)),
        }
    }

    /// An integer option.
    pub fn int(&self, key: &str) -> Result<Option<i64>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) if v.is_unit() => Ok(None),
            Some(v) => v
                .as_int()
                .map(Some)
                .map_err(|t| self.type_error(key, "an integer", t)),
        }
    }

    /// A string option.
    pub fn string(&self, key: &str) -> Result<Option<String>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) if v.is_unit() => Ok(None),
            Some(v) => v
                .clone()
                .into_string()
                .map(Some)
                .map_err(|t| self.type_error(key, "a string", t)),
        }
    }

    fn type_error(&self, key: &str, expected: &str, got: &str) -> Box<EvalAltResult> {
        format!(
            "{}: option {key:?} must be {expected}, not {got}",
            self.fn_name
        )
        .into()
    }
}
