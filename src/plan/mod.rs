//! Reassignment planning — pure: an assignment (topic, partition, replicas) and a target
//! set of brokers in, a new assignment out. No cluster, no I/O; the `kafka-reassign-
//! partitions.sh` JSON is read and written here too.
//!
//! The planner moves as few replicas as it can: every broker gets ⌊R/B⌋ or ⌈R/B⌉ of the R
//! replicas, the brokers that already hold the most keep the larger share, and a replica
//! moves only from a broker above its share (or one being removed) to a broker below its
//! share — so the moves equal the lower bound Σ max(0, now − share) unless a partition's
//! other replicas (or racks) leave no legal destination. Preferred leaders are then
//! balanced by reordering replicas, which moves no data.

mod planner;

pub use planner::{lower_bound_moves, plan, replica_moves, PlanOptions};

use serde::{Deserialize, Serialize};

/// One partition's replica list, preferred leader first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
pub struct PartitionAssignment {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Broker ids, preferred leader first.
    pub replicas: Vec<i32>,
    /// Target log dirs, as kafka-reassign-partitions.sh accepts them (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_dirs: Option<Vec<String>>,
}

/// A reassignment plan in kafka-reassign-partitions.sh's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Always 1.
    pub version: i32,
    /// The partitions.
    pub partitions: Vec<PartitionAssignment>,
}

impl Plan {
    /// A plan of these partitions.
    pub fn new(mut partitions: Vec<PartitionAssignment>) -> Plan {
        partitions.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Plan {
            version: 1,
            partitions,
        }
    }

    /// Parses kafka-reassign-partitions.sh JSON, checking what it says.
    pub fn from_json(text: &str) -> Result<Plan, String> {
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| format!("not a reassignment plan: {e}"))?;
        if plan.version != 1 {
            return Err(format!(
                "plan version {} is not supported (only 1)",
                plan.version
            ));
        }
        for p in &plan.partitions {
            let mut seen = std::collections::HashSet::new();
            if p.partition < 0 {
                return Err(format!(
                    "{}: partition {} is negative",
                    p.topic, p.partition
                ));
            }
            if let Some(bad) = p.replicas.iter().find(|b| **b < 0) {
                return Err(format!(
                    "{}-{} names broker {bad}, which is not a broker id",
                    p.topic, p.partition
                ));
            }
            if p.replicas.is_empty() {
                return Err(format!("{}-{} has no replicas", p.topic, p.partition));
            }
            if let Some(dup) = p.replicas.iter().find(|b| !seen.insert(**b)) {
                return Err(format!(
                    "{}-{} names broker {dup} twice",
                    p.topic, p.partition
                ));
            }
            if let Some(dirs) = &p.log_dirs {
                if dirs.len() != p.replicas.len() {
                    return Err(format!(
                        "{}-{}: log_dirs must have one entry per replica",
                        p.topic, p.partition
                    ));
                }
            }
        }
        Ok(plan)
    }

    /// The JSON kafka-reassign-partitions.sh reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
