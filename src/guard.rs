//! Guard rails on blast radius: how much one call may change before the operator has to
//! insist (`force`). Pure rules over numbers the domain functions gather; a call that is out
//! of proportion fails with [`Error::OutOfProportion`] naming the numbers, before anything
//! is sent. The limits come from the context's `[guard_rails]` table.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// The limits of one context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardRails {
    /// New partitions one call may create (create_topic, add_partitions).
    pub max_new_partitions: u64,
    /// Replicas per live broker a call may lead to (Kafka's guidance for ZooKeeper-era
    /// brokers is about 4,000).
    pub max_replicas_per_broker: u64,
    /// A call that creates more than this many partitions must not also more than double
    /// the cluster's partition count.
    pub doubling_floor: u64,
    /// Lowest replication throttle, bytes/s: below it a reassignment all but stalls.
    pub min_throttle: u64,
    /// Highest replication throttle, bytes/s: above it replication floods the network.
    pub max_throttle: u64,
    /// Destructive calls that match more objects than this ask first (in a terminal) or
    /// refuse (without one) unless given `--yes` or `force`.
    pub confirm_above: u64,
    /// Records one `delete_records` call may delete.
    pub max_deleted_records: u64,
}

impl Default for GuardRails {
    fn default() -> Self {
        GuardRails {
            max_new_partitions: 10_000,
            max_replicas_per_broker: 4_000,
            doubling_floor: 1_000,
            min_throttle: 1_000_000,
            max_throttle: 10_000_000_000,
            confirm_above: 10,
            max_deleted_records: 1_000_000,
        }
    }
}

/// What a call would add to the cluster, and the cluster it adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growth {
    /// Partitions the call creates.
    pub new_partitions: u64,
    /// Replicas per new partition.
    pub replication_factor: u64,
    /// Partitions in the cluster now.
    pub cluster_partitions: u64,
    /// Replicas in the cluster now.
    pub cluster_replicas: u64,
    /// Live brokers.
    pub brokers: u64,
}

impl GuardRails {
    /// Refuses partition growth out of proportion: more new partitions than
    /// `max_new_partitions`, more than doubling the cluster (above `doubling_floor`), or
    /// more replicas per broker than `max_replicas_per_broker`.
    pub fn check_growth(&self, what: &str, g: &Growth) -> Result<()> {
        let per_broker_after =
            (g.cluster_replicas + g.new_partitions * g.replication_factor) / g.brokers.max(1);
        let why = if g.new_partitions > self.max_new_partitions {
            Some(format!(
                "{} new partitions is more than max_new_partitions ({})",
                g.new_partitions, self.max_new_partitions
            ))
        } else if g.new_partitions > self.doubling_floor && g.new_partitions > g.cluster_partitions
        {
            Some(format!(
                "{} new partitions would more than double the cluster's {}",
                g.new_partitions, g.cluster_partitions
            ))
        } else if g.new_partitions > 0 && per_broker_after > self.max_replicas_per_broker {
            Some(format!(
                "it would put {per_broker_after} replicas on each of {} broker(s), more than max_replicas_per_broker ({})",
                g.brokers, self.max_replicas_per_broker
            ))
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::OutOfProportion(format!(
                "{what}: {why}; a typo like this can take a broker down"
            ))),
            None => Ok(()),
        }
    }

    /// Refuses a replication throttle outside `min_throttle ..= max_throttle` bytes/s.
    pub fn check_throttle(&self, rate: i64) -> Result<()> {
        let rate_u = rate.max(0) as u64;
        if rate <= 0 {
            return Err(Error::InvalidInput(format!(
                "throttle {rate} B/s: give a positive rate in bytes per second"
            )));
        }
        if rate_u < self.min_throttle {
            return Err(Error::OutOfProportion(format!(
                "throttle {rate} B/s is below {} B/s: replication would all but stop (the rate is per broker and shared by every reassignment)",
                self.min_throttle
            )));
        }
        if rate_u > self.max_throttle {
            return Err(Error::OutOfProportion(format!(
                "throttle {rate} B/s is above {} B/s: replication could flood the brokers' network",
                self.max_throttle
            )));
        }
        Ok(())
    }

    /// Refuses deleting more than `max_deleted_records` records in one call (`what` names
    /// the topic; `records` is what the call would delete, `held` what the topic holds).
    pub fn check_deleted_records(&self, what: &str, records: u64, held: u64) -> Result<()> {
        if records > self.max_deleted_records {
            return Err(Error::OutOfProportion(format!(
                "{what}: deleting {records} of {held} records is more than max_deleted_records ({}); deleted records cannot be brought back",
                self.max_deleted_records
            )));
        }
        Ok(())
    }

    /// Whether a destructive call matching `count` objects must be confirmed.
    pub fn needs_confirmation(&self, count: u64) -> bool {
        count > self.confirm_above
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn growth(new: u64, rf: u64, partitions: u64, brokers: u64) -> Growth {
        Growth {
            new_partitions: new,
            replication_factor: rf,
            cluster_partitions: partitions,
            cluster_replicas: partitions * rf,
            brokers,
        }
    }

    #[test]
    fn a_typo_with_extra_zeros_is_refused_with_the_numbers() {
        let g = GuardRails::default();
        let err = g
            .check_growth("topic \"peter-topic\"", &growth(99_999_999, 1, 52, 3))
            .unwrap_err();
        assert!(matches!(err, Error::OutOfProportion(_)));
        assert!(err.to_string().contains("99999999 new partitions"), "{err}");
        assert!(err.to_string().contains("10000"), "{err}");
    }

    #[test]
    fn ordinary_growth_passes_and_doubling_or_overload_does_not() {
        let g = GuardRails::default();
        assert!(g.check_growth("t", &growth(5, 2, 0, 3)).is_ok());
        assert!(g.check_growth("t", &growth(900, 3, 0, 3)).is_ok());
        let doubling = g
            .check_growth("t", &growth(2_000, 1, 1_500, 30))
            .unwrap_err();
        assert!(doubling.to_string().contains("double"), "{doubling}");
        let overload = g
            .check_growth("t", &growth(3_000, 3, 6_000, 6))
            .unwrap_err();
        assert!(
            overload.to_string().contains("replicas on each"),
            "{overload}"
        );
    }

    #[test]
    fn deleting_many_records_is_refused_with_the_numbers() {
        let g = GuardRails::default();
        assert!(g.check_deleted_records("t", 999_999, 5_000_000).is_ok());
        let err = g
            .check_deleted_records("topic \"orders\"", 2_000_000, 5_000_000)
            .unwrap_err();
        assert!(matches!(err, Error::OutOfProportion(_)));
        assert!(err.to_string().contains("2000000 of 5000000"), "{err}");
    }

    #[test]
    fn throttles_outside_the_band_are_refused() {
        let g = GuardRails::default();
        assert!(g.check_throttle(50_000_000).is_ok());
        assert!(matches!(
            g.check_throttle(1),
            Err(Error::OutOfProportion(_))
        ));
        assert!(matches!(
            g.check_throttle(20_000_000_000),
            Err(Error::OutOfProportion(_))
        ));
        assert!(matches!(g.check_throttle(0), Err(Error::InvalidInput(_))));
    }
}
