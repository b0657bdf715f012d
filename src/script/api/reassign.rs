//! Rhai functions for reassignment planning (the planner is pure; these read the current
//! assignment from the cluster or a saved plan).

use rhai::plugin::*;

#[export_module]
pub mod api {
    use super::{current, topic_names};
    use crate::plan::{self, Plan, PlanOptions};
    use crate::script::convert::{to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

    /// The current assignment of topics (a name, a list of names, or all non-internal
    /// topics when empty) as a plan in kafka-reassign-partitions.sh's shape:
    /// `#{version: 1, partitions: [#{topic, partition, replicas}]}`.
    ///
    /// ```rhai
    /// let now = assignment(["peter5"]);
    /// write_file("/tmp/peter5-rollback.json", plan_json(now));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assignment(ctx: NativeCallContext, topics: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let names = topic_names(&topics)?;
        let result = call(&session, "assignment", |k| async move {
            current(&k, &names).await.map(|(p, _)| p)
        })?;
        to_map(&result)
    }

    /// Plan a reassignment that balances replicas and preferred leaders over `brokers`
    /// with the fewest replica moves. Options: `topics` (names; default all) or
    /// `assignment` (a saved plan map, planned without a cluster), `brokers` (required),
    /// `replication_factor`, `rack_aware` (racks from the cluster metadata). The result
    /// carries `moves` and `lower_bound` next to the plan.
    ///
    /// ```rhai
    /// let p = plan_reassignment(#{topics: ["peter5"], brokers: [1, 2, 3, 4, 5]});
    /// print(`${p.moves} replica moves (lower bound ${p.lower_bound})`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_reassignment(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_reassignment";
        let opts = Options::new(
            f,
            &options,
            &[
                "topics",
                "assignment",
                "brokers",
                "replication_factor",
                "rack_aware",
            ],
        )?;
        let brokers: Vec<i32> = opts
            .int_list("brokers")?
            .into_iter()
            .map(|b| b as i32)
            .collect();
        if brokers.is_empty() {
            return Err(script_error(
                &session,
                f,
                crate::error::Error::InvalidInput(
                    "give the target brokers: #{brokers: [1, 2, 3]}".into(),
                ),
            ));
        }
        let rf = opts.int("replication_factor")?.map(|r| r.max(0) as usize);
        let rack_aware = opts.bool("rack_aware")?.unwrap_or(false);
        let (before, racks) = match options.get("assignment") {
            Some(saved) => {
                let json: serde_json::Value = rhai::serde::from_dynamic(saved)?;
                let plan = Plan::from_json(&json.to_string())
                    .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
                (plan, std::collections::HashMap::new())
            }
            None => {
                let names = opts.string_list("topics")?;
                call(&session, f, |k| async move { current(&k, &names).await })?
            }
        };
        let planned = plan::plan(
            &before.partitions,
            &PlanOptions {
                brokers: brokers.clone(),
                racks,
                rack_aware,
                replication_factor: rf,
            },
        )
        .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        let moves = plan::replica_moves(&before.partitions, &planned);
        let bound = if rf.is_none() {
            plan::lower_bound_moves(&before.partitions, &brokers)
        } else {
            moves
        };
        let mut out = to_map(&Plan::new(planned))?;
        out.insert("moves".into(), Dynamic::from_int(moves as i64));
        out.insert("lower_bound".into(), Dynamic::from_int(bound as i64));
        Ok(out)
    }

    /// The seed's rt.json, computed: a plan that raises or lowers a topic's replication
    /// factor to `rf`, keeping every partition's current leader first and placing new
    /// replicas on the least loaded live brokers.
    ///
    /// ```rhai
    /// let rt = plan_replication_factor("peter-topic", 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_replication_factor(
        ctx: NativeCallContext,
        topic: &str,
        rf: i64,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "plan_replication_factor";
        let names = vec![topic.to_string()];
        let (before, racks, brokers) = call(&session, f, |k| async move {
            let (plan, racks) = current(&k, &names).await?;
            let brokers: Vec<i32> = crate::kafka::brokers::brokers(&k)
                .await?
                .into_iter()
                .map(|b| b.id)
                .collect();
            Ok((plan, racks, brokers))
        })?;
        let rf_usize = usize::try_from(rf).unwrap_or(0);
        let mut changed = before.partitions.clone();
        let planned = plan::plan(
            &before.partitions,
            &PlanOptions {
                brokers: brokers.clone(),
                racks: racks.clone(),
                rack_aware: !racks.is_empty(),
                replication_factor: Some(rf_usize),
            },
        )
        .map_err(|e| script_error(&session, f, crate::error::Error::InvalidInput(e)))?;
        // Only the replica lists change size; every partition keeps its leader first.
        for (c, p) in changed.iter_mut().zip(planned) {
            let leader = c.replicas[0];
            let mut replicas: Vec<i32> = p.replicas.into_iter().filter(|b| *b != leader).collect();
            replicas.insert(0, leader);
            replicas.truncate(rf_usize);
            c.replicas = replicas;
        }
        to_map(&Plan::new(changed))
    }

    /// A plan as kafka-reassign-partitions.sh JSON text (for `--reassignment-json-file`).
    ///
    /// ```rhai
    /// let text = plan_json(assignment(["peter5"]));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn plan_json(plan: Map) -> Result<String, Box<EvalAltResult>> {
        let mut json: serde_json::Value = rhai::serde::from_dynamic(&Dynamic::from_map(plan))?;
        if let Some(obj) = json.as_object_mut() {
            obj.retain(|k, _| k == "version" || k == "partitions");
        }
        let plan = Plan::from_json(&json.to_string()).map_err(|e| format!("plan_json: {e}"))?;
        Ok(plan.to_json())
    }

    /// Read kafka-reassign-partitions.sh JSON (the seed's partition.json) into a plan.
    ///
    /// ```rhai
    /// let p = parse_plan(`{"version":1,"partitions":[{"topic":"peter5","partition":0,"replicas":[2,1]}]}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_plan(text: &str) -> Result<Map, Box<EvalAltResult>> {
        let plan = Plan::from_json(text).map_err(|e| format!("parse_plan: {e}"))?;
        to_map(&plan)
    }
}

use crate::plan::{PartitionAssignment, Plan};
use rhai::{Dynamic, EvalAltResult};

fn topic_names(topics: &Dynamic) -> Result<Vec<String>, Box<EvalAltResult>> {
    if topics.is_unit() {
        return Ok(Vec::new());
    }
    if topics.is_string() {
        return Ok(vec![topics.to_string()]);
    }
    topics
        .clone()
        .into_array()
        .map_err(|t| format!("assignment: expects a topic name or a list of names, not {t}"))?
        .into_iter()
        .map(|t| {
            t.into_string()
                .map_err(|t| format!("assignment: topic names must be strings, not {t}").into())
        })
        .collect()
}

async fn current(
    client: &crate::kafka::KafkaClient,
    names: &[String],
) -> crate::error::Result<(Plan, std::collections::HashMap<i32, String>)> {
    use crate::kafka::topics;
    let names = if names.is_empty() {
        topics::list_topics(client, &topics::ListOptions { internal: false }).await?
    } else {
        names.to_vec()
    };
    let described = topics::describe_topics(client, &names).await?;
    let mut partitions = Vec::new();
    for t in described {
        for p in t.partitions {
            partitions.push(PartitionAssignment {
                topic: t.topic.clone(),
                partition: p.partition,
                replicas: p.replicas,
                log_dirs: None,
            });
        }
    }
    let racks = crate::kafka::brokers::brokers(client)
        .await?
        .into_iter()
        .filter_map(|b| b.rack.map(|r| (b.id, r)))
        .collect();
    Ok((Plan::new(partitions), racks))
}
