//! Reassignment workflows over `reassign.rs`'s single requests: which route a cluster takes
//! (AlterPartitionReassignments from Kafka 2.4, else the `/admin/reassign_partitions`
//! znode), a plan started and followed by that route, the wait until it completes (polls,
//! bytes left, the observed rate, the warning that another reassignment shares the
//! throttles, then throttle removal and preferred leader election) and preferred leader
//! election in rounds. The waits sleep here, inside the one bridge call that runs them, and
//! bound every step by the client's call timeout; what a wait has to say while it runs goes
//! to a callback, never to a terminal.

use super::client::KafkaClient;
use super::conn::human;
use super::reassign::{self, InFlight, PartitionProgress, ReassignStarted};
use super::replica_dirs::{self, DirProgress};
use crate::error::{Error, Result};
use crate::plan::{PartitionAssignment, Plan};
use crate::zk::znodes::ZkSession;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long a preferred leader election waits, by default, for replicas to be in sync.
pub const ELECTION_PATIENCE: Duration = Duration::from_secs(60);

/// How the cluster takes (or reports) a reassignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Route {
    /// AlterPartitionReassignments / ListPartitionReassignments (Kafka 2.4 and later).
    #[serde(rename = "api")]
    Api,
    /// The `/admin/reassign_partitions` znode (ZooKeeper-based Kafka before 2.4).
    #[serde(rename = "zookeeper")]
    Znode,
}

/// The route the controller takes a reassignment by.
pub async fn route(client: &KafkaClient) -> Result<Route> {
    Ok(if reassign::api_supported(client).await? {
        Route::Api
    } else {
        Route::Znode
    })
}

/// The route a reassignment's progress is read by: ListPartitionReassignments where the
/// controller has it, else the partitions pending in the znode.
pub async fn progress_route(client: &KafkaClient) -> Result<Route> {
    use kafka_protocol::messages::ListPartitionReassignmentsRequest;
    Ok(
        if client
            .controller_supports::<ListPartitionReassignmentsRequest>()
            .await?
        {
            Route::Api
        } else {
            Route::Znode
        },
    )
}

/// Where a plan's progress is read: the controller, or the znode through a ZooKeeper
/// session (with the controller for the current replicas).
#[derive(Clone)]
pub enum Tracking {
    /// ListPartitionReassignments.
    Api,
    /// The partitions still pending in `/admin/reassign_partitions`.
    Znode(std::sync::Arc<ZkSession>),
}

/// Runs one step of a workflow under the client's call timeout, saying (as the bridge does)
/// what it was still waiting for when the limit expires.
async fn within<T>(
    client: &KafkaClient,
    what: &str,
    waiting_for: impl Fn() -> Option<String>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let limit = client.timeout();
    let mut work = std::pin::pin!(work);
    tokio::select! {
        result = &mut work => result,
        _ = tokio::time::sleep(limit) => {
            let detail = waiting_for()
                .map(|w| format!(": still waiting for {w}"))
                .unwrap_or_default();
            Err(Error::Timeout(format!("{what} timed out after {}{detail}", human(limit))))
        }
    }
}

/// [`within`] for a step that talks to Kafka.
async fn kafka_step<T>(
    client: &KafkaClient,
    what: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    within(client, what, || client.waiting(), work).await
}

/// [`within`] for a step that reads ZooKeeper.
async fn zk_step<T>(
    client: &KafkaClient,
    zk: &ZkSession,
    what: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let servers = zk.servers().to_string();
    within(
        client,
        what,
        || Some(format!("an answer from a ZooKeeper server of {servers}")),
        work,
    )
    .await
}

/// A plan's progress with its totals, as `reassignment_status` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReassignmentStatus {
    /// Partitions in the plan.
    pub total: usize,
    /// Partitions where the plan puts them, nothing in flight.
    pub done: usize,
    /// Whether every partition is done.
    pub complete: bool,
    /// Each partition's progress.
    pub partitions: Vec<PartitionProgress>,
    /// Where each replica the plan's `log_dirs` put in a given dir is (as
    /// kafka-reassign-partitions.sh --verify tells it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_dirs: Vec<DirProgress>,
}

impl From<Vec<PartitionProgress>> for ReassignmentStatus {
    fn from(partitions: Vec<PartitionProgress>) -> Self {
        let done = partitions.iter().filter(|p| p.done).count();
        ReassignmentStatus {
            total: partitions.len(),
            done,
            complete: done == partitions.len(),
            partitions,
            log_dirs: Vec::new(),
        }
    }
}

/// The progress of a plan with its totals.
pub async fn status(
    client: &KafkaClient,
    tracking: &Tracking,
    plan: &[PartitionAssignment],
) -> Result<ReassignmentStatus> {
    let (partitions, dirs) = progress_with_dirs(client, tracking, plan).await?;
    Ok(ReassignmentStatus {
        log_dirs: dirs,
        ..partitions.into()
    })
}

/// What `start` started, and by which route.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Started {
    /// The partitions, replicas and throttle.
    #[serde(flatten)]
    pub started: ReassignStarted,
    /// The route it took.
    pub via: Route,
}

/// Starts a plan by `route`: refused while the znode still holds another plan (checked
/// before any throttle is set, as the controller ignores a second one), its `log_dirs`
/// checked against the brokers' log dirs, then validated and throttled
/// ([`reassign::prepare`]) and submitted by the route; then the replicas not yet in the
/// log dirs the plan puts them in are moved there (AlterReplicaLogDirs, after the
/// brokers' throttle of copies between log dirs when `log_dirs_throttle` is given; a plan
/// that moves no replica between brokers takes `throttle` for it). `zk` is needed on
/// [`Route::Znode`] unless `dry_run`.
pub async fn start(
    client: &KafkaClient,
    route: Route,
    zk: Option<&ZkSession>,
    plan: &[PartitionAssignment],
    throttle: Option<i64>,
    log_dirs_throttle: Option<i64>,
    dry_run: bool,
) -> Result<Started> {
    let zk = match (route, dry_run) {
        (Route::Znode, false) => Some(zk.ok_or_else(|| {
            Error::Config(format!(
                "a reassignment through {} needs ZooKeeper",
                crate::zk::reassign::REASSIGN_ZNODE
            ))
        })?),
        _ => None,
    };
    if let Some(zk) = zk {
        let pending = zk_step(
            client,
            zk,
            "reading the reassignment znode",
            crate::zk::reassign::pending(zk),
        )
        .await?;
        if !pending.is_empty() {
            return Err(Error::Refused(format!(
                "a reassignment of {} partition(s) is still in progress ({} exists); wait for it first",
                pending.len(),
                crate::zk::reassign::REASSIGN_ZNODE
            )));
        }
    }
    let dir_targets = replica_dirs::targets(plan);
    let dir_moves: Vec<replica_dirs::DirTarget> = if dir_targets.is_empty() {
        Vec::new()
    } else {
        kafka_step(
            client,
            "checking the plan's log dirs",
            replica_dirs::check(client, &dir_targets),
        )
        .await?
        .into_iter()
        .map(|p| replica_dirs::DirTarget {
            broker: p.broker,
            topic: p.topic,
            partition: p.partition,
            dir: p.target,
        })
        .collect()
    };
    if let Some(rate) = log_dirs_throttle {
        if rate <= 0 {
            return Err(Error::InvalidInput(format!(
                "log_dirs_throttle must be a positive number of bytes/s, not {rate}"
            )));
        }
    }
    let (mut started, moving) = kafka_step(
        client,
        "checking and throttling the reassignment",
        reassign::prepare(client, plan, throttle, dry_run),
    )
    .await?;
    if !dry_run && !moving.is_empty() {
        let what = "submitting the reassignment";
        match zk {
            None => kafka_step(client, what, reassign::submit(client, &moving)).await?,
            Some(zk) => zk_step(client, zk, what, crate::zk::reassign::submit(zk, &moving)).await?,
        }
    }
    if !dir_moves.is_empty() {
        let dir_rate = log_dirs_throttle.or(throttle.filter(|_| moving.is_empty()));
        started.log_dirs_throttle = dir_rate;
        started.log_dir_moves = dir_moves
            .iter()
            .map(|t| {
                format!(
                    "{}-{} on broker {} to {}",
                    t.topic, t.partition, t.broker, t.dir
                )
            })
            .collect();
        if !dry_run {
            if let Some(rate) = dir_rate {
                let brokers: BTreeSet<i32> = dir_moves.iter().map(|t| t.broker).collect();
                kafka_step(
                    client,
                    "throttling the copies between log dirs",
                    replica_dirs::set_throttle(client, &brokers, rate),
                )
                .await?;
            }
            // Bounded by its own patience (the call timeout), each request by the client's.
            replica_dirs::alter(client, &dir_moves, client.timeout()).await?;
        }
    }
    Ok(Started {
        started,
        via: route,
    })
}

/// One partition pending in the reassignment znode (all that the znode tells).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PendingPartition {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
}

/// Every reassignment in flight, by the route `tracking` says: the API's full picture, or
/// the partitions still pending in the znode.
pub async fn list(client: &KafkaClient, tracking: &Tracking) -> Result<Listed> {
    Ok(match tracking {
        Tracking::Api => Listed::Api(reassign::in_flight(client).await?),
        Tracking::Znode(zk) => Listed::Znode(
            crate::zk::reassign::pending(zk)
                .await?
                .into_iter()
                .map(|(topic, partition)| PendingPartition { topic, partition })
                .collect(),
        ),
    })
}

/// The reassignments in flight, as each route tells them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Listed {
    /// From ListPartitionReassignments.
    Api(Vec<InFlight>),
    /// From the znode.
    Znode(Vec<PendingPartition>),
}

/// What `cancel` cancelled.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Cancelled {
    /// `topic-partition` of the reassignments cancelled.
    pub cancelled: Vec<String>,
    /// Copies between log dirs stopped (the plan's `log_dirs`): "topic-partition on
    /// broker B", each replica left in the dir it was in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log_dir_moves_cancelled: Vec<String>,
    /// The throttles removed.
    pub throttles_removed: Vec<String>,
    /// True when nothing was changed.
    pub dry_run: bool,
}

/// Cancels a plan's in-flight reassignments and copies between log dirs (as
/// kafka-reassign-partitions.sh --cancel does: each replica back to the dir it is in) and
/// removes the throttles; refused on a cluster that takes reassignments through the znode
/// (it cannot cancel them).
pub async fn cancel(
    client: &KafkaClient,
    plan: &[PartitionAssignment],
    dry_run: bool,
) -> Result<Cancelled> {
    let what = "the cancellation";
    if kafka_step(client, what, route(client)).await? == Route::Znode {
        return Err(Error::Unsupported(
            "this cluster (Kafka before 2.4) cannot cancel a reassignment; wait for it to complete"
                .into(),
        ));
    }
    if dry_run {
        return Ok(Cancelled {
            cancelled: Vec::new(),
            log_dir_moves_cancelled: Vec::new(),
            throttles_removed: Vec::new(),
            dry_run,
        });
    }
    let targets = replica_dirs::targets(plan);
    let log_dir_moves_cancelled = if targets.is_empty() {
        Vec::new()
    } else {
        kafka_step(
            client,
            "stopping the copies between log dirs",
            replica_dirs::cancel(client, &targets),
        )
        .await?
    };
    Ok(Cancelled {
        cancelled: kafka_step(client, what, reassign::cancel(client, plan)).await?,
        log_dir_moves_cancelled,
        throttles_removed: kafka_step(
            client,
            "removing the replication throttles",
            reassign::remove_throttles(client, plan),
        )
        .await?,
        dry_run,
    })
}

/// `topic-partition` of the partitions of other topics than `topics` being reassigned now
/// (they share the brokers' throttle rates); none where the cluster cannot list them.
pub async fn others_moving(client: &KafkaClient, topics: &[String]) -> Result<Vec<String>> {
    if progress_route(client).await? == Route::Znode {
        return Ok(Vec::new());
    }
    Ok(reassign::in_flight(client)
        .await?
        .into_iter()
        .filter(|p| !topics.contains(&p.topic))
        .map(|p| format!("{}-{}", p.topic, p.partition))
        .collect())
}

/// How to wait for a reassignment.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// Give up after this long (the reassignment goes on, its throttles stay).
    pub timeout: Duration,
    /// Time between two looks at the progress.
    pub interval: Duration,
    /// Elect preferred leaders once complete.
    pub elect: bool,
    /// Look once and change nothing.
    pub dry_run: bool,
}

/// Other reassignments in flight on brokers this one copies to or from: throttle rates are
/// per broker, so both share them (each copies slower than its rate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedThrottle {
    /// Partitions of other reassignments on those brokers.
    pub partitions: usize,
    /// The brokers shared.
    pub brokers: BTreeSet<i32>,
}

impl std::fmt::Display for SharedThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.brokers.iter().map(|b| b.to_string()).collect();
        write!(
            f,
            "{} other partition(s) are being reassigned on broker(s) {} at the same time; throttle rates are per broker, so the two reassignments share them and each copies slower",
            self.partitions,
            list.join(", ")
        )
    }
}

/// What a wait reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEvent {
    /// Another reassignment shares brokers with this one (said once, at the first look).
    SharedThrottle(SharedThrottle),
    /// One look at the progress.
    Progress {
        /// Partitions done.
        done: usize,
        /// Partitions in the plan.
        total: usize,
        /// Bytes the new replicas still have to copy (`None` when the brokers cannot tell).
        bytes_left: Option<i64>,
        /// Bytes per second copied since the first look (once measured).
        bytes_per_second: Option<f64>,
    },
}

/// A completed reassignment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Completed {
    /// Always true: a wait that did not see it complete fails.
    pub complete: bool,
    /// Seconds waited.
    pub seconds: i64,
    /// The replication rate observed, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_per_second: Option<i64>,
    /// The throttles removed.
    pub throttles_removed: Vec<String>,
    /// `topic-partition` of the partitions whose leader changed.
    pub leaders_elected: Vec<String>,
}

/// Waits until a plan's reassignment completes, reporting each look to `on_event` and
/// sleeping `interval` between looks; then removes the replication throttles (from the
/// plan's topics and every broker, as Kafka's tool does) and, with `elect`, elects preferred
/// leaders ([`elect_preferred`], [`ELECTION_PATIENCE`]). Fails after `timeout`, leaving the
/// reassignment running and its throttles in place. A dry run looks once and changes nothing.
pub async fn wait(
    client: &KafkaClient,
    tracking: &Tracking,
    plan: &[PartitionAssignment],
    options: WaitOptions,
    mut on_event: impl FnMut(WaitEvent),
) -> Result<Completed> {
    let started = Instant::now();
    // The first look at the bytes left, to measure the replication rate from.
    let mut first_left: Option<(Instant, i64)> = None;
    let mut rate: Option<f64> = None;
    let mut warned = options.dry_run;
    loop {
        let (progress, dirs) = progress_with_dirs(client, tracking, plan).await?;
        let done = progress.iter().filter(|p| p.done).count();
        if done == progress.len() || options.dry_run {
            break;
        }
        if !warned {
            warned = true;
            if let Some(shared) = shared_throttle(client, &progress).await {
                on_event(WaitEvent::SharedThrottle(shared));
            }
        }
        // Copies between log dirs: what the future replicas still lack.
        let dirs_left: i64 = dirs
            .iter()
            .filter(|d| !d.done())
            .map(|d| (d.size - d.future_size).max(0))
            .sum();
        let left = bytes_left(client, &progress).await.map(|l| l + dirs_left);
        if let Some(now) = left {
            match first_left {
                None => first_left = Some((Instant::now(), now)),
                Some((at, then)) => {
                    let secs = at.elapsed().as_secs_f64();
                    if secs > 0.0 && then > now {
                        rate = Some((then - now) as f64 / secs);
                    }
                }
            }
        }
        on_event(WaitEvent::Progress {
            done,
            total: progress.len(),
            bytes_left: left,
            bytes_per_second: rate,
        });
        if started.elapsed() >= options.timeout {
            return Err(Error::Timeout(format!(
                "{done} of {} partitions done after {}; the reassignment goes on, throttles stay",
                progress.len(),
                human(options.timeout)
            )));
        }
        tokio::time::sleep(options.interval).await;
    }
    let removed = if options.dry_run {
        Vec::new()
    } else {
        kafka_step(
            client,
            "removing the replication throttles",
            reassign::remove_throttles(client, plan),
        )
        .await?
    };
    let topics: Vec<String> = plan
        .iter()
        .map(|p| p.topic.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let elected = if options.elect && !options.dry_run {
        elect_preferred(client, &topics, ELECTION_PATIENCE).await?
    } else {
        Vec::new()
    };
    Ok(Completed {
        complete: true,
        seconds: started.elapsed().as_secs() as i64,
        bytes_per_second: rate.map(|r| r as i64),
        throttles_removed: removed,
        leaders_elected: elected,
    })
}

/// Progress of a plan, read where `tracking` says; a partition is done only once its
/// replicas are in the log dirs the plan's `log_dirs` put them in, too.
pub async fn progress(
    client: &KafkaClient,
    tracking: &Tracking,
    plan: &[PartitionAssignment],
) -> Result<Vec<PartitionProgress>> {
    Ok(progress_with_dirs(client, tracking, plan).await?.0)
}

/// [`progress`], and where each replica of the plan's `log_dirs` is.
async fn progress_with_dirs(
    client: &KafkaClient,
    tracking: &Tracking,
    plan: &[PartitionAssignment],
) -> Result<(Vec<PartitionProgress>, Vec<DirProgress>)> {
    let mut partitions = brokers_progress(client, tracking, plan).await?;
    let targets = replica_dirs::targets(plan);
    if targets.is_empty() {
        return Ok((partitions, Vec::new()));
    }
    let dirs = kafka_step(
        client,
        "reading where the replicas' log dirs are",
        replica_dirs::progress(client, &targets),
    )
    .await?;
    for p in &mut partitions {
        p.log_dirs_pending = dirs
            .iter()
            .filter(|d| d.topic == p.topic && d.partition == p.partition && !d.done())
            .map(|d| d.broker)
            .collect();
        p.done &= p.log_dirs_pending.is_empty();
    }
    Ok((partitions, dirs))
}

/// Progress of a plan's replica lists, read where `tracking` says.
async fn brokers_progress(
    client: &KafkaClient,
    tracking: &Tracking,
    plan: &[PartitionAssignment],
) -> Result<Vec<PartitionProgress>> {
    let what = "reading the reassignment's progress";
    match tracking {
        Tracking::Api => kafka_step(client, what, reassign::status(client, plan)).await,
        Tracking::Znode(zk) => {
            let pending = zk_step(client, zk, what, crate::zk::reassign::pending(zk)).await?;
            kafka_step(
                client,
                what,
                reassign::status_from_znode(client, plan, &pending),
            )
            .await
        }
    }
}

/// Bytes the new replicas of in-flight partitions still have to copy; `None` when the
/// brokers cannot tell (a progress display must not fail the wait).
async fn bytes_left(client: &KafkaClient, progress: &[PartitionProgress]) -> Option<i64> {
    let in_flight: Vec<&PartitionProgress> = progress.iter().filter(|p| !p.done).collect();
    let brokers: Vec<i32> = in_flight
        .iter()
        .flat_map(|p| p.replicas.iter().chain(&p.adding).copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let topics: Vec<String> = in_flight
        .iter()
        .map(|p| p.topic.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let sizes = kafka_step(
        client,
        "reading the replicas' sizes",
        super::log_dirs::log_dirs(client, &brokers, &topics),
    )
    .await
    .ok()?;
    Some(reassign::bytes_left(progress, &sizes.replicas))
}

/// Other reassignments in flight on brokers this one copies to or from; `None` when there
/// are none or the controller cannot tell (a warning must not fail the wait).
async fn shared_throttle(
    client: &KafkaClient,
    progress: &[PartitionProgress],
) -> Option<SharedThrottle> {
    let ours: BTreeSet<(String, i32)> = progress
        .iter()
        .map(|p| (p.topic.clone(), p.partition))
        .collect();
    let brokers: BTreeSet<i32> = progress
        .iter()
        .filter(|p| !p.done)
        .flat_map(|p| p.replicas.iter().chain(&p.adding).copied())
        .collect();
    let others = kafka_step(
        client,
        "listing the reassignments in flight",
        reassign::in_flight(client),
    )
    .await
    .ok()?;
    let mut shared = BTreeSet::new();
    let mut count = 0;
    for o in others
        .iter()
        .filter(|o| !ours.contains(&(o.topic.clone(), o.partition)))
    {
        let on: Vec<i32> = o
            .replicas
            .iter()
            .chain(&o.adding)
            .copied()
            .filter(|b| brokers.contains(b))
            .collect();
        if !on.is_empty() {
            count += 1;
            shared.extend(on);
        }
    }
    (count > 0).then_some(SharedThrottle {
        partitions: count,
        brokers: shared,
    })
}

/// Preferred leader election of every partition of `topics` (default every non-internal
/// topic), in rounds: partitions that cannot be elected yet (preferred replica out of sync,
/// controller busy) are retried every second until `patience` runs out, then reported with
/// their reasons. Returns `topic-partition` of the partitions whose leader changed.
pub async fn elect_preferred(
    client: &KafkaClient,
    topics: &[String],
    patience: Duration,
) -> Result<Vec<String>> {
    let started = Instant::now();
    let what = "the preferred leader election";
    let mut todo = kafka_step(client, what, reassign::partitions_of(client, topics)).await?;
    let mut elected = Vec::new();
    loop {
        let round = kafka_step(client, what, reassign::elect_round(client, &todo)).await?;
        elected.extend(round.elected);
        if round.pending.is_empty() {
            return Ok(elected);
        }
        if started.elapsed() >= patience {
            let shown: Vec<&str> = round
                .pending
                .iter()
                .take(5)
                .map(|(_, why)| why.as_str())
                .collect();
            return Err(Error::Timeout(format!(
                "{} partition(s) not led by their preferred replica after {} ({} elected): {}{}",
                round.pending.len(),
                human(patience),
                elected.len(),
                shown.join("; "),
                if round.pending.len() > shown.len() {
                    "; ..."
                } else {
                    ""
                }
            )));
        }
        todo = round.pending.into_iter().map(|(p, _)| p).collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The current assignment of `names`, or of every topic (internal ones with `internal`),
/// with the brokers' racks.
pub async fn assignment(
    client: &KafkaClient,
    names: &[String],
    internal: bool,
) -> Result<(Plan, HashMap<i32, String>)> {
    use super::topics;
    let names = if names.is_empty() {
        topics::list_topics(client, &topics::ListOptions { internal }).await?
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
    let racks = super::brokers::brokers(client)
        .await?
        .into_iter()
        .filter_map(|b| b.rack.map(|r| (b.id, r)))
        .collect();
    Ok((Plan::new(partitions), racks))
}

/// What planning a reassignment online reads from the cluster.
#[derive(Debug, Clone)]
pub struct PlanningInput {
    /// The current assignment.
    pub plan: Plan,
    /// Broker id → rack, for the brokers that have one.
    pub racks: HashMap<i32, String>,
    /// The registered brokers.
    pub live: Vec<i32>,
    /// Partition sizes and broker capacities from the log dirs, when asked for and read.
    pub bytes: Option<reassign::ClusterBytes>,
}

/// The current assignment of `names` (every topic when empty, internal ones with
/// `internal`), the registered brokers and their racks and, with `bytes`, the partitions'
/// sizes and the brokers' capacities from DescribeLogDirs: with `bytes_needed` (balancing
/// by bytes) every broker must answer, otherwise they are best effort.
pub async fn planning_input(
    client: &KafkaClient,
    names: &[String],
    internal: bool,
    bytes: bool,
    bytes_needed: bool,
) -> Result<PlanningInput> {
    let (plan, racks) = assignment(client, names, internal).await?;
    let live: Vec<i32> = super::brokers::brokers(client)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let bytes = if bytes {
        let topics: Vec<String> = plan
            .partitions
            .iter()
            .map(|p| p.topic.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        match reassign::cluster_bytes(client, &topics).await {
            Ok(b) if bytes_needed && !b.errors.is_empty() => {
                return Err(Error::Cluster(format!(
                    "balancing bytes needs every broker's log dirs: {}",
                    b.errors.join("; ")
                )))
            }
            Ok(b) => Some(b),
            Err(e) if bytes_needed => return Err(e),
            Err(_) => None,
        }
    } else {
        None
    };
    Ok(PlanningInput {
        plan,
        racks,
        live,
        bytes,
    })
}

/// Refuses target brokers the cluster has not registered (a typo, a broker not started
/// yet): partitions would wait for them forever.
pub fn registered(targets: &[i32], live: &[i32]) -> Result<()> {
    if let Some(unknown) = targets.iter().find(|b| !live.contains(b)) {
        let mut known = live.to_vec();
        known.sort_unstable();
        let known: Vec<String> = known.iter().map(|b| b.to_string()).collect();
        return Err(Error::InvalidInput(format!(
            "broker {unknown} is not registered in the cluster (its brokers are {}): start it first, or plan offline from a saved assignment",
            known.join(", ")
        )));
    }
    Ok(())
}

/// The partitions broker `id` holds a replica of, internal topics included (a broker must
/// hold none before it is stopped for good).
pub async fn replicas_held(client: &KafkaClient, id: i32) -> Result<Vec<String>> {
    let (plan, _) = assignment(client, &[], true).await?;
    Ok(plan
        .partitions
        .iter()
        .filter(|p| p.replicas.contains(&id))
        .map(|p| format!("{}-{}", p.topic, p.partition))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(partition: i32, done: bool) -> PartitionProgress {
        PartitionProgress {
            topic: "t".into(),
            partition,
            target: vec![1, 2],
            replicas: vec![1, 2],
            adding: Vec::new(),
            removing: Vec::new(),
            log_dirs_pending: Vec::new(),
            done,
        }
    }

    #[test]
    fn status_counts_what_is_done() {
        let s = ReassignmentStatus::from(vec![progress(0, true), progress(1, false)]);
        assert_eq!((s.total, s.done, s.complete), (2, 1, false));
        let s = ReassignmentStatus::from(vec![progress(0, true)]);
        assert!(s.complete);
        assert!(ReassignmentStatus::from(Vec::new()).complete);
    }

    #[test]
    fn the_shared_throttle_warning_names_the_brokers() {
        let s = SharedThrottle {
            partitions: 3,
            brokers: [4, 2].into_iter().collect(),
        };
        assert_eq!(
            s.to_string(),
            "3 other partition(s) are being reassigned on broker(s) 2, 4 at the same time; throttle rates are per broker, so the two reassignments share them and each copies slower"
        );
    }

    #[test]
    fn targets_must_be_registered() {
        assert!(registered(&[1, 2], &[3, 2, 1]).is_ok());
        assert_eq!(
            registered(&[1, 7], &[3, 2, 1]).unwrap_err().to_string(),
            "broker 7 is not registered in the cluster (its brokers are 1, 2, 3): start it first, or plan offline from a saved assignment"
        );
    }

    #[test]
    fn a_start_serializes_flat_with_its_route() {
        let s = Started {
            started: ReassignStarted {
                started: vec!["t-0".into()],
                unchanged: 1,
                moving_replicas: 2,
                throttle: None,
                log_dir_moves: Vec::new(),
                log_dirs_throttle: None,
                dry_run: false,
                previous: Vec::new(),
            },
            via: Route::Znode,
        };
        let json = serde_json::to_value(&s).expect("json");
        assert_eq!(json["via"], "zookeeper");
        assert_eq!(json["moving_replicas"], 2);
        assert!(json.get("previous").is_none());
    }
}
