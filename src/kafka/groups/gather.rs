//! One call's view of the brokers, and the per-group pipeline every group function uses:
//! FindCoordinator (batched), the group's type (from a listing, or ListGroups at its
//! coordinator), its type's describe API and its offsets, one coordinator at a time in
//! parallel. Every group ends with its own result: one group that cannot be described never
//! takes the others down, and a broker that does not answer costs one bounded wait per call.

use super::describe::describe_at;
use super::positions::{committed_at, share_starts_at, Positions};
use super::{not_found, GroupDescription, GroupType};
use crate::error::{Error, Result};
use crate::kafka::client::{check_code, KafkaClient};
use crate::kafka::conn::human;
use kafka_protocol::error::{ParseResponseErrorCode, ResponseError};
use kafka_protocol::messages::{FindCoordinatorRequest, ListGroupsRequest};
use kafka_protocol::protocol::{
    buf::{ByteBuf, ByteBufMut},
    Decodable, Encodable, HeaderVersion, Message, Request, StrBytes, VersionRange,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// The per-broker time limit of a call that asks several brokers: a third of the call's
/// limit, so a stuck broker leaves time to report on everything else.
fn per_broker_limit(call: Duration) -> Duration {
    (call / 3).max(Duration::from_millis(500))
}

/// One call's brokers: requests bounded by the per-broker limit, and a memory of brokers
/// that already failed in this call, so each costs at most one wait.
pub(super) struct Calls<'a> {
    pub client: &'a KafkaClient,
    pub limit: Duration,
    failed: std::sync::Mutex<HashMap<i32, Error>>,
}

impl<'a> Calls<'a> {
    pub fn new(client: &'a KafkaClient) -> Self {
        Calls {
            client,
            limit: per_broker_limit(client.timeout()),
            failed: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn failed_before(&self, id: i32) -> Result<()> {
        match self.failed.lock().map(|f| f.get(&id).cloned()) {
            Ok(Some(e)) => Err(e),
            _ => Ok(()),
        }
    }

    fn remember(&self, id: i32, e: &Error) {
        if matches!(e, Error::Timeout(_) | Error::Cluster(_)) {
            if let Ok(mut f) = self.failed.lock() {
                f.entry(id).or_insert_with(|| e.clone());
            }
        }
    }

    /// The version of `R` broker `id` and kafsh both speak, never above `cap`.
    pub async fn version<R: Request>(&self, id: i32, cap: i16) -> Result<i16> {
        self.failed_before(id)?;
        let client = self.client;
        let asked = async move {
            let conn = client.broker(id).await?;
            let version = conn.lock().await.version_of_capped::<R>(cap);
            version
        };
        let result = match tokio::time::timeout(self.limit, asked).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(format!(
                "broker {id} did not answer within {}",
                human(self.limit)
            ))),
        };
        if let Err(e) = &result {
            self.remember(id, e);
        }
        result
    }

    /// Sends `request` to broker `id` within the per-broker limit.
    pub async fn send<R: Request>(&self, id: i32, request: &R) -> Result<R::Response> {
        self.failed_before(id)?;
        let result = self.client.send_to_within(id, request, self.limit).await;
        if let Err(e) = &result {
            self.remember(id, e);
        }
        result
    }
}

/// A request sent at most at version `MAX` (for APIs whose newer versions change what this
/// client reads, e.g. OffsetFetch v10 names topics by id).
#[derive(Debug, Clone, Default)]
pub(super) struct Capped<R, const MAX: i16>(pub R);

impl<R: Message, const MAX: i16> Message for Capped<R, MAX> {
    const VERSIONS: VersionRange = VersionRange {
        min: R::VERSIONS.min,
        max: if MAX < R::VERSIONS.max {
            MAX
        } else {
            R::VERSIONS.max
        },
    };
    const DEPRECATED_VERSIONS: Option<VersionRange> = R::DEPRECATED_VERSIONS;
}

impl<R: Encodable, const MAX: i16> Encodable for Capped<R, MAX> {
    fn encode<B: ByteBufMut>(&self, buf: &mut B, version: i16) -> anyhow::Result<()> {
        self.0.encode(buf, version)
    }
    fn compute_size(&self, version: i16) -> anyhow::Result<usize> {
        self.0.compute_size(version)
    }
}

impl<R: Decodable, const MAX: i16> Decodable for Capped<R, MAX> {
    fn decode<B: ByteBuf>(buf: &mut B, version: i16) -> anyhow::Result<Self> {
        R::decode(buf, version).map(Capped)
    }
}

impl<R: HeaderVersion, const MAX: i16> HeaderVersion for Capped<R, MAX> {
    fn header_version(version: i16) -> i16 {
        R::header_version(version)
    }
}

impl<R: Request, const MAX: i16> Request for Capped<R, MAX> {
    const KEY: i16 = R::KEY;
    type Response = R::Response;
}

/// Why one group could not be read, and whether asking again may help.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub error: Error,
    pub retry: Retry,
}

/// What a failed group needs before it is asked again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Nothing helps within this call.
    No,
    /// Its coordinator moved or is loading: find it again.
    Coordinator,
    /// It was described with its former type's API: find its type again.
    Type,
}

impl Failure {
    pub fn final_(error: Error) -> Failure {
        Failure {
            error,
            retry: Retry::No,
        }
    }

    /// A group-level error code of a group answer, or `None` for no error.
    /// GROUP_ID_NOT_FOUND from a type's describe API means the group is gone or changed type.
    pub fn from_code(code: i16, message: Option<&StrBytes>, group: &str) -> Option<Failure> {
        let err = ParseResponseErrorCode::err(code)?;
        let retry = match err {
            ResponseError::NotCoordinator
            | ResponseError::CoordinatorNotAvailable
            | ResponseError::CoordinatorLoadInProgress => Retry::Coordinator,
            ResponseError::GroupIdNotFound => {
                return Some(Failure {
                    error: not_found(group),
                    retry: Retry::Type,
                })
            }
            _ => Retry::No,
        };
        let error = check_code(code, message, &format!("group {group:?}"))
            .err()
            .unwrap_or_else(|| Error::Cluster(format!("group {group:?}: error {code}")));
        Some(Failure { error, retry })
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::final_(error)
    }
}

/// A group's description and offsets.
#[derive(Debug, Clone)]
pub(super) struct Gathered {
    pub description: GroupDescription,
    pub positions: Positions,
}

/// Describes `wanted` groups (with their type when a listing said it) and reads their
/// offsets: per group the result, in name order. Groups whose coordinator moves are asked
/// again within the per-broker limit; a group described with a stale type is typed again
/// once.
pub(super) async fn gather(
    calls: &Calls<'_>,
    wanted: &[(String, Option<GroupType>)],
) -> BTreeMap<String, Result<Gathered>> {
    let deadline = Instant::now() + calls.limit;
    let mut hints: BTreeMap<String, Option<GroupType>> = wanted.iter().cloned().collect();
    let mut done: BTreeMap<String, Result<Gathered>> = BTreeMap::new();
    let mut typed_again: HashSet<String> = HashSet::new();
    let mut delay = Duration::from_millis(100);
    loop {
        let pending: Vec<(String, Option<GroupType>)> = hints
            .iter()
            .filter(|(g, _)| !done.contains_key(*g))
            .map(|(g, t)| (g.clone(), *t))
            .collect();
        if pending.is_empty() {
            return done;
        }
        let mut again = false;
        for (group, result) in one_round(calls, &pending).await {
            match result {
                Ok(g) => {
                    done.insert(group, Ok(g));
                }
                Err(f) if f.retry == Retry::Coordinator && Instant::now() + delay < deadline => {
                    again = true;
                }
                Err(f) if f.retry == Retry::Type && typed_again.insert(group.clone()) => {
                    hints.insert(group, None);
                    again = true;
                }
                Err(f) => {
                    done.insert(group, Err(f.error));
                }
            }
        }
        if again {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
}

/// One pass over `pending`: every group gets an answer or a failure.
async fn one_round(
    calls: &Calls<'_>,
    pending: &[(String, Option<GroupType>)],
) -> Vec<(String, std::result::Result<Gathered, Failure>)> {
    let names: Vec<String> = pending.iter().map(|(g, _)| g.clone()).collect();
    let mut out = Vec::new();
    let mut by_coordinator: BTreeMap<i32, Vec<(String, Option<GroupType>)>> = BTreeMap::new();
    match coordinators(calls, &names).await {
        Err(e) => {
            for g in names {
                out.push((g, Err(Failure::final_(e.clone()))));
            }
            return out;
        }
        Ok(found) => {
            for (group, hint) in pending {
                match found.get(group) {
                    Some(Ok(id)) => by_coordinator
                        .entry(*id)
                        .or_default()
                        .push((group.clone(), *hint)),
                    Some(Err(f)) => out.push((group.clone(), Err(f.clone()))),
                    None => out.push((
                        group.clone(),
                        Err(Failure::final_(Error::Cluster(format!(
                            "no coordinator for group {group:?}"
                        )))),
                    )),
                }
            }
        }
    }
    let answers = KafkaClient::join_all(
        by_coordinator
            .into_iter()
            .map(|(id, groups)| at_coordinator(calls, id, groups))
            .collect(),
    )
    .await;
    out.extend(answers.into_iter().flatten());
    out
}

/// Everything about `groups` from their coordinator `id`.
async fn at_coordinator(
    calls: &Calls<'_>,
    id: i32,
    groups: Vec<(String, Option<GroupType>)>,
) -> Vec<(String, std::result::Result<Gathered, Failure>)> {
    let mut out = Vec::new();
    let mut by_type: BTreeMap<GroupType, Vec<String>> = BTreeMap::new();
    let untyped: Vec<&String> = groups
        .iter()
        .filter(|(_, t)| t.is_none())
        .map(|(g, _)| g)
        .collect();
    let types = if untyped.is_empty() {
        Ok(HashMap::new())
    } else {
        types_at(calls, id).await
    };
    for (group, hint) in &groups {
        let t = match (hint, &types) {
            (Some(t), _) => Ok(*t),
            (None, Ok(listed)) => listed
                .get(group)
                .copied()
                .ok_or_else(|| Failure::final_(not_found(group))),
            (None, Err(f)) => Err(f.clone()),
        };
        match t {
            Ok(t) => by_type.entry(t).or_default().push(group.clone()),
            Err(f) => out.push((group.clone(), Err(f))),
        }
    }
    for (t, names) in by_type {
        let described = describe_at(calls, id, t, &names).await;
        let ok: Vec<String> = described
            .iter()
            .filter(|(_, d)| d.is_ok())
            .map(|(g, _)| g.clone())
            .collect();
        let mut positions = if ok.is_empty() {
            HashMap::new()
        } else if t == GroupType::Share {
            share_starts_at(calls, id, &ok).await
        } else {
            committed_at(calls, id, &ok).await
        };
        for (group, d) in described {
            let result = d.and_then(|description| {
                let p = positions.remove(&group).unwrap_or_else(|| {
                    Err(Failure::final_(Error::Cluster(format!(
                        "coordinator {id} sent no offsets for group {group:?}"
                    ))))
                })?;
                Ok(Gathered {
                    description,
                    positions: p,
                })
            });
            out.push((group, result));
        }
    }
    out
}

/// The type of every group coordinator `id` has (ListGroups there).
async fn types_at(
    calls: &Calls<'_>,
    id: i32,
) -> std::result::Result<HashMap<String, GroupType>, Failure> {
    let response = calls.send(id, &ListGroupsRequest::default()).await?;
    if let Some(f) = Failure::from_code(response.error_code, None, &format!("(broker {id})")) {
        return Err(f);
    }
    Ok(response
        .groups
        .into_iter()
        .map(|g| {
            (
                g.group_id.0.as_str().to_string(),
                super::GroupType::from_broker(g.group_type.as_str()),
            )
        })
        .collect())
}

/// The coordinator of each group (FindCoordinator, batched on Kafka ≥ 3.0): per group its
/// broker id or why not. Only a failure to ask at all fails the whole.
pub(super) async fn coordinators(
    calls: &Calls<'_>,
    groups: &[String],
) -> Result<HashMap<String, std::result::Result<i32, Failure>>> {
    let client = calls.client;
    let mut out = HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    let conn = client.any().await?;
    let batched = conn
        .lock()
        .await
        .version_of::<FindCoordinatorRequest>()
        .map(|v| v >= 4)?;
    if batched {
        let request = FindCoordinatorRequest::default()
            .with_key_type(0)
            .with_coordinator_keys(
                groups
                    .iter()
                    .map(|g| StrBytes::from_string(g.clone()))
                    .collect(),
            );
        let response = client.send_any(&request).await?;
        for c in response.coordinators {
            let group = c.key.as_str().to_string();
            let result = match Failure::from_code(c.error_code, c.error_message.as_ref(), &group) {
                Some(f) => Err(f),
                None => Ok(c.node_id.0),
            };
            out.insert(group, result);
        }
    } else {
        for g in groups {
            let request = FindCoordinatorRequest::default()
                .with_key_type(0)
                .with_key(StrBytes::from_string(g.clone()));
            let response = client.send_any(&request).await?;
            let result =
                match Failure::from_code(response.error_code, response.error_message.as_ref(), g) {
                    Some(f) => Err(f),
                    None => Ok(response.node_id.0),
                };
            out.insert(g.clone(), result);
        }
    }
    Ok(out)
}

/// The coordinator of one group, retried while Kafka creates or loads it (a fresh cluster
/// answers COORDINATOR_NOT_AVAILABLE until `__consumer_offsets` exists), as Kafka's clients
/// do, within the call's limit.
pub(super) async fn coordinator_of(client: &KafkaClient, group: &str) -> Result<i32> {
    let calls = Calls::new(client);
    let mut delay = Duration::from_millis(100);
    loop {
        let mut found = coordinators(&calls, &[group.to_string()]).await?;
        match found.remove(group) {
            Some(Ok(id)) => return Ok(id),
            Some(Err(f)) if f.retry == Retry::Coordinator => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Some(Err(f)) => return Err(f.error),
            None => {
                return Err(Error::Cluster(format!(
                    "FindCoordinator did not answer for group {group:?}"
                )))
            }
        }
    }
}

/// Retries `op` while a group coordinator is moving or still loading its groups (a fresh
/// cluster, a broker restart), as Kafka's own clients do; the call's time limit bounds it.
pub(super) async fn while_coordinator_moves<T, F, Fut>(mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(100);
    let mut attempts = 0;
    loop {
        match op().await {
            Err(Error::Cluster(m))
                if attempts < 30
                    && [
                        "NOT_COORDINATOR",
                        "COORDINATOR_NOT_AVAILABLE",
                        "COORDINATOR_LOAD_IN_PROGRESS",
                    ]
                    .iter()
                    .any(|code| m.contains(code)) =>
            {
                attempts += 1;
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::OffsetFetchRequest;

    #[test]
    fn capped_requests_never_ask_beyond_the_cap() {
        type Fetch = Capped<OffsetFetchRequest, 9>;
        assert_eq!(<Fetch as Message>::VERSIONS.max, 9);
        assert_eq!(<Fetch as Request>::KEY, OffsetFetchRequest::KEY);
        type Wide = Capped<OffsetFetchRequest, { i16::MAX }>;
        assert_eq!(
            <Wide as Message>::VERSIONS.max,
            <OffsetFetchRequest as Message>::VERSIONS.max
        );
    }

    #[test]
    fn failures_say_what_to_do_next() {
        let code = |e: ResponseError| e.code();
        let moved = Failure::from_code(code(ResponseError::NotCoordinator), None, "g");
        assert_eq!(moved.map(|f| f.retry), Some(Retry::Coordinator));
        let gone = Failure::from_code(code(ResponseError::GroupIdNotFound), None, "g");
        assert_eq!(gone.as_ref().map(|f| f.retry), Some(Retry::Type));
        assert!(matches!(gone.map(|f| f.error), Some(Error::NotFound(_))));
        let denied = Failure::from_code(code(ResponseError::GroupAuthorizationFailed), None, "g");
        assert_eq!(denied.map(|f| f.retry), Some(Retry::No));
        assert!(Failure::from_code(0, None, "g").is_none());
    }

    #[test]
    fn a_stuck_broker_leaves_time_for_the_others() {
        assert_eq!(
            per_broker_limit(Duration::from_secs(30)),
            Duration::from_secs(10)
        );
        assert_eq!(
            per_broker_limit(Duration::from_millis(600)),
            Duration::from_millis(500)
        );
    }
}
