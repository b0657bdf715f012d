//! Reassignment planning — pure: an assignment (topic, partition, replicas), target
//! brokers and options in, a new assignment and a report out. No cluster, no I/O; the
//! `kafka-reassign-partitions.sh` JSON is read and written here too.
//!
//! Constraints first: the replication factor kept (or the one asked), no broker twice in a
//! partition, only target brokers, replicas in distinct racks where the racks allow it.
//! Then balance: by count (default), each topic's replicas and preferred leaders differ by
//! at most one between target brokers and so do the cluster totals, with the fewest
//! replica moves (`quota` decides per-topic shares that also even out the cluster,
//! `place` moves replicas only from brokers above their share to brokers below it); by
//! bytes, every broker's disk within a tolerance of the mean and under its capacity, each
//! topic within two, with the fewest bytes moved (`bytes`). Preferred leaders are balanced
//! last by reordering replica lists, which moves no data (`leaders`). Every plan carries a
//! `PlanReport`: moves, bytes, spreads before and after, and lower bounds.

mod bytes;
mod dirs;
mod leaders;
mod model;
mod place;
mod planner;
mod quota;
mod report;
#[cfg(test)]
mod tests;

pub use dirs::{plan_log_dirs, DirLoad, DirMove, DirReplica, DirSpread, DirsPlan};
pub use planner::{
    change_replication_factor_of, human_bytes, lower_bound_moves, plan, plan_leaders,
    replica_moves, Balance, PartitionSizes, PlanOptions, PlanReport, Planned,
};
pub use report::{BrokerLoad, Spreads};

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
    /// Target log dirs, one per replica ("any" leaves it to the broker), as
    /// kafka-reassign-partitions.sh accepts them.
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
        plan.check()?;
        Ok(plan)
    }

    /// Checks what a plan says: version 1, partitions and broker ids not negative,
    /// replicas given, no broker twice, one log dir per replica.
    pub fn check(&self) -> Result<(), String> {
        if self.version != 1 {
            return Err(format!(
                "plan version {} is not supported (only 1)",
                self.version
            ));
        }
        for p in &self.partitions {
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
        Ok(())
    }

    /// The JSON kafka-reassign-partitions.sh reads.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
