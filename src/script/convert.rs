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

    /// An option's raw value, if given.
    pub fn get(&self, key: &str) -> Option<&Dynamic> {
        self.map.get(key)
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

    /// A map option whose values are scalars (numbers, bools, strings), as strings.
    pub fn string_map(
        &self,
        key: &str,
    ) -> Result<indexmap::IndexMap<String, String>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(indexmap::IndexMap::new()),
            Some(v) if v.is_unit() => Ok(indexmap::IndexMap::new()),
            Some(v) => {
                let map = v.clone().try_cast::<Map>().ok_or_else(|| {
                    self.type_error(
                        key,
                        "a map like #{\"retention.ms\": 3600000}",
                        v.type_name(),
                    )
                })?;
                let mut out = indexmap::IndexMap::new();
                for (k, v) in map {
                    let text = scalar_text(&v).ok_or_else(|| {
                        self.type_error(
                            &format!("{key}.{k}"),
                            "a number, bool or string",
                            v.type_name(),
                        )
                    })?;
                    out.insert(k.to_string(), text);
                }
                Ok(out)
            }
        }
    }

    /// A list of strings (a single string is a list of one).
    pub fn string_list(&self, key: &str) -> Result<Vec<String>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(Vec::new()),
            Some(v) if v.is_unit() => Ok(Vec::new()),
            Some(v) if v.is_string() => Ok(vec![v.to_string()]),
            Some(v) => {
                let items = v
                    .clone()
                    .into_array()
                    .map_err(|t| self.type_error(key, "a list of strings", t))?;
                items
                    .into_iter()
                    .map(|i| {
                        i.into_string()
                            .map_err(|t| self.type_error(key, "a list of strings", t))
                    })
                    .collect()
            }
        }
    }

    /// A list of integers (a single integer is a list of one).
    pub fn int_list(&self, key: &str) -> Result<Vec<i64>, Box<EvalAltResult>> {
        match self.map.get(key) {
            None => Ok(Vec::new()),
            Some(v) if v.is_unit() => Ok(Vec::new()),
            Some(v) if v.is_int() => Ok(vec![v.as_int().unwrap_or_default()]),
            Some(v) => {
                let items = v
                    .clone()
                    .into_array()
                    .map_err(|t| self.type_error(key, "a list of integers", t))?;
                items
                    .into_iter()
                    .map(|i| {
                        i.as_int()
                            .map_err(|t| self.type_error(key, "a list of integers", t))
                    })
                    .collect()
            }
        }
    }

    /// A list of lists of integers (replica assignments).
    pub fn int_matrix(&self, key: &str) -> Result<Option<Vec<Vec<i64>>>, Box<EvalAltResult>> {
        let expected = "a list of replica lists like [[1, 2], [2, 3]]";
        match self.map.get(key) {
            None => Ok(None),
            Some(v) if v.is_unit() => Ok(None),
            Some(v) => {
                let rows = v
                    .clone()
                    .into_array()
                    .map_err(|t| self.type_error(key, expected, t))?;
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let row = row
                        .into_array()
                        .map_err(|t| self.type_error(key, expected, t))?;
                    out.push(
                        row.into_iter()
                            .map(|i| i.as_int().map_err(|t| self.type_error(key, expected, t)))
                            .collect::<Result<Vec<i64>, _>>()?,
                    );
                }
                Ok(Some(out))
            }
        }
    }

    /// A time limit or interval: a duration string ("30s", "5m", "1h30m") or a number of
    /// seconds; zero and negative values are refused (a limit of nothing, or a busy loop).
    pub fn duration(
        &self,
        key: &str,
        default: std::time::Duration,
    ) -> Result<std::time::Duration, Box<EvalAltResult>> {
        let value = match self.map.get(key) {
            None => return Ok(default),
            Some(v) if v.is_unit() => return Ok(default),
            Some(v) => v,
        };
        let parsed = if let Ok(secs) = value.as_int() {
            if secs <= 0 {
                Err(format!("{secs} is not a positive number of seconds"))
            } else {
                Ok(std::time::Duration::from_secs(secs as u64))
            }
        } else if let Ok(secs) = value.as_float() {
            if secs.is_finite() && secs > 0.0 {
                Ok(std::time::Duration::from_secs_f64(secs))
            } else {
                Err(format!("{secs} is not a positive number of seconds"))
            }
        } else if let Ok(text) = value.clone().into_string() {
            crate::config::parse_duration(&text).and_then(|d| {
                if d.is_zero() {
                    Err(format!("{text:?} is zero"))
                } else {
                    Ok(d)
                }
            })
        } else {
            return Err(self.type_error(
                key,
                "a duration like \"30s\" or seconds",
                value.type_name(),
            ));
        };
        parsed.map_err(|why| {
            format!(
                "{}: option {key:?} must be a positive duration like \"30s\" or \"5m\": {why}",
                self.fn_name
            )
            .into()
        })
    }

    fn type_error(&self, key: &str, expected: &str, got: &str) -> Box<EvalAltResult> {
        format!(
            "{}: option {key:?} must be {expected}, not {got}",
            self.fn_name
        )
        .into()
    }
}

/// A scalar as config text: numbers, bools and strings; none for maps and arrays.
pub fn scalar_text(v: &Dynamic) -> Option<String> {
    if v.is_string() || v.is_int() || v.is_bool() || v.is_float() || v.is_char() {
        Some(v.to_string())
    } else {
        None
    }
}
