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

/// A reassignment plan as scripts hold it: kept natively (a million partitions stay one
/// value, not a million maps), with the plan's report fields next to it. Scripts read
/// `version`, `partitions` (built as a list of maps when read), `moves`, `lower_bound`
/// and the other report fields as properties or with `p["name"]`; functions that take a
/// plan take this or a map of kafka-reassign-partitions.sh's shape.
#[derive(Clone)]
pub struct ScriptPlan(std::sync::Arc<ScriptPlanData>);

/// What a [`ScriptPlan`] holds.
pub struct ScriptPlanData {
    /// The plan.
    pub plan: crate::plan::Plan,
    /// Report fields (moves, lower_bound, before, after, ...), in order.
    pub report: serde_json::Map<String, serde_json::Value>,
}

impl ScriptPlan {
    /// A plan with report fields (a serializable struct's fields, or none).
    pub fn new(plan: crate::plan::Plan, report: Option<&impl Serialize>) -> ScriptPlan {
        let report = report
            .and_then(|r| serde_json::to_value(r).ok())
            .and_then(|v| match v {
                serde_json::Value::Object(m) => Some(m),
                _ => None,
            })
            .unwrap_or_default();
        ScriptPlan(std::sync::Arc::new(ScriptPlanData { plan, report }))
    }

    /// A plan back from its JSON (what [`ScriptPlan::to_json`] wrote, e.g. in the step
    /// journal): `version` and `partitions` make the plan, every other field is report.
    /// None when the value is not a plan.
    pub fn from_json(value: &serde_json::Value) -> Option<ScriptPlan> {
        let object = value.as_object()?;
        if !object.contains_key("version") || !object.contains_key("partitions") {
            return None;
        }
        let plan: crate::plan::Plan = serde_json::from_value(serde_json::json!({
            "version": object["version"],
            "partitions": object["partitions"],
        }))
        .ok()?;
        plan.check().ok()?;
        let report = object
            .iter()
            .filter(|(k, _)| *k != "version" && *k != "partitions")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Some(ScriptPlan(std::sync::Arc::new(ScriptPlanData {
            plan,
            report,
        })))
    }

    /// The plan.
    pub fn plan(&self) -> &crate::plan::Plan {
        &self.0.plan
    }

    /// The report fields.
    pub fn report(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0.report
    }

    /// One field as a script value: `version`, `partitions` or a report field.
    pub fn field(&self, name: &str) -> Option<Dynamic> {
        match name {
            "version" => Some(Dynamic::from_int(self.0.plan.version as i64)),
            "partitions" => Some(Dynamic::from_array(self.partitions())),
            _ => self
                .0
                .report
                .get(name)
                .and_then(|v| rhai::serde::to_dynamic(v).ok()),
        }
    }

    /// The partitions as a list of maps (`topic`, `partition`, `replicas`, `log_dirs`).
    pub fn partitions(&self) -> rhai::Array {
        self.0
            .plan
            .partitions
            .iter()
            .map(|p| {
                let mut m = Map::new();
                m.insert("topic".into(), Dynamic::from(p.topic.clone()));
                m.insert("partition".into(), Dynamic::from_int(p.partition as i64));
                m.insert(
                    "replicas".into(),
                    Dynamic::from_array(
                        p.replicas
                            .iter()
                            .map(|b| Dynamic::from_int(*b as i64))
                            .collect(),
                    ),
                );
                if let Some(dirs) = &p.log_dirs {
                    m.insert(
                        "log_dirs".into(),
                        Dynamic::from_array(
                            dirs.iter().map(|d| Dynamic::from(d.clone())).collect(),
                        ),
                    );
                }
                Dynamic::from_map(m)
            })
            .collect()
    }

    /// The plan and its report as JSON (what printing shows).
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("version".into(), self.0.plan.version.into());
        out.insert(
            "partitions".into(),
            serde_json::to_value(&self.0.plan.partitions).unwrap_or_default(),
        );
        for (k, v) in &self.0.report {
            out.insert(k.clone(), v.clone());
        }
        serde_json::Value::Object(out)
    }

    /// One line for `print`.
    pub fn summary(&self) -> String {
        let mut text = format!("plan of {} partition(s)", self.0.plan.partitions.len());
        if let Some(moves) = self.0.report.get("moves") {
            text.push_str(&format!(", {moves} replica move(s)"));
        }
        if let Some(bound) = self.0.report.get("lower_bound") {
            text.push_str(&format!(" (lower bound {bound})"));
        }
        text
    }
}

/// The plan a function was given: a [`ScriptPlan`], or a map of kafka-reassign-
/// partitions.sh's shape (`#{version: 1, partitions: [...]}`; other keys are ignored).
pub fn plan_of(fn_name: &str, value: &Dynamic) -> Result<crate::plan::Plan, Box<EvalAltResult>> {
    if let Some(p) = value.read_lock::<ScriptPlan>() {
        return Ok(p.plan().clone());
    }
    let Some(map) = value.read_lock::<Map>() else {
        return Err(format!(
            "{fn_name}: wrong arguments ({}); expected a plan (from plan_reassignment, assignment or parse_plan, or a map #{{version: 1, partitions: [...]}})",
            value.type_name()
        )
        .into());
    };
    let partitions = map.get("partitions").ok_or_else(|| -> Box<EvalAltResult> {
        format!("{fn_name}: the plan has no partitions (use plan_reassignment, assignment or parse_plan)")
            .into()
    })?;
    let partitions: Vec<crate::plan::PartitionAssignment> =
        rhai::serde::from_dynamic(partitions)
            .map_err(|e| -> Box<EvalAltResult> { format!("{fn_name}: not a plan: {e}").into() })?;
    let version = match map.get("version") {
        Some(v) => v.as_int().unwrap_or(0) as i32,
        None => 1,
    };
    let plan = crate::plan::Plan {
        version,
        partitions,
    };
    plan.check()
        .map_err(|e| -> Box<EvalAltResult> { format!("{fn_name}: {e}").into() })?;
    Ok(plan)
}

/// A script value as JSON, native plans included (at any depth).
pub fn to_json(value: &Dynamic) -> Result<serde_json::Value, Box<EvalAltResult>> {
    if let Some(p) = value.read_lock::<ScriptPlan>() {
        return Ok(p.to_json());
    }
    if let Some(map) = value.read_lock::<Map>() {
        if map.values().any(holds_plan) {
            let mut out = serde_json::Map::new();
            for (k, v) in map.iter() {
                out.insert(k.to_string(), to_json(v)?);
            }
            return Ok(serde_json::Value::Object(out));
        }
    }
    if let Some(items) = value.read_lock::<rhai::Array>() {
        if items.iter().any(holds_plan) {
            return items
                .iter()
                .map(to_json)
                .collect::<Result<Vec<_>, _>>()
                .map(serde_json::Value::Array);
        }
    }
    rhai::serde::from_dynamic(value)
}

fn holds_plan(value: &Dynamic) -> bool {
    if value.is::<ScriptPlan>() {
        return true;
    }
    if let Some(map) = value.read_lock::<Map>() {
        return map.values().any(holds_plan);
    }
    if let Some(items) = value.read_lock::<rhai::Array>() {
        return items.iter().any(holds_plan);
    }
    false
}

/// Registers [`ScriptPlan`]: its name, `print`, properties and `p["name"]`.
pub fn register_plan_type(engine: &mut rhai::Engine) {
    engine.register_type_with_name::<ScriptPlan>("Plan");
    engine.register_fn("to_string", |p: &mut ScriptPlan| p.summary());
    engine.register_fn("to_debug", |p: &mut ScriptPlan| p.summary());
    engine.register_fn("len", |p: &mut ScriptPlan| p.plan().partitions.len() as i64);
    engine.register_fn("contains", |p: &mut ScriptPlan, name: &str| {
        p.field(name).is_some()
    });
    // Unit for a field the plan does not carry (a plan read from JSON has no moves).
    engine.register_indexer_get(|p: &mut ScriptPlan, name: &str| {
        p.field(name).unwrap_or(Dynamic::UNIT)
    });
    // Read-only: a changed plan is a new map, #{version: 1, partitions: [...]}.
    engine.register_get("partitions", |p: &mut ScriptPlan| p.partitions());
    engine.register_get("version", |p: &mut ScriptPlan| p.plan().version as i64);
    for name in PLAN_FIELDS {
        engine.register_get(name, move |p: &mut ScriptPlan| {
            p.field(name).unwrap_or(Dynamic::UNIT)
        });
    }
}

/// Report fields a plan may carry, readable as properties.
const PLAN_FIELDS: &[&str] = &[
    "moves",
    "lower_bound",
    "cluster_lower_bound",
    "topic_lower_bound",
    "bytes_to_move",
    "bytes_lower_bound",
    "balance",
    "tolerance",
    "before",
    "after",
    "leaders_changed",
    "broker",
    "log_dir_moves",
];
