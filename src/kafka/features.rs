//! Feature flags (KIP-584): what `kafka-features.sh describe` shows — every feature a node
//! supports with its range, the cluster's finalized level and epoch, from ApiVersions — and
//! changing one (UpdateFeatures), with what a downgrade gives up.
//!
//! `metadata.version` levels are shown as Kafka's release names too ("4.2-IV1"), as the tool
//! prints them.

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, UpdateFeaturesRequest};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;

/// The `metadata.version` feature.
pub const METADATA_VERSION: &str = "metadata.version";

/// Kafka's release names of the `metadata.version` levels (`MetadataVersion`), level 1 first,
/// as far as Kafka 4.4 knows them (its production level is 4.4-IV2; 4.5-IV0 is unstable).
const METADATA_VERSIONS: [&str; 34] = [
    "3.0-IV1", "3.1-IV0", "3.2-IV0", "3.3-IV0", "3.3-IV1", "3.3-IV2", "3.3-IV3", "3.4-IV0",
    "3.5-IV0", "3.5-IV1", "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2", "3.7-IV0", "3.7-IV1",
    "3.7-IV2", "3.7-IV3", "3.7-IV4", "3.8-IV0", "3.9-IV0", "4.0-IV0", "4.0-IV1", "4.0-IV2",
    "4.0-IV3", "4.1-IV0", "4.1-IV1", "4.2-IV0", "4.2-IV1", "4.3-IV0", "4.4-IV0", "4.4-IV1",
    "4.4-IV2", "4.5-IV0",
];

/// A level as `kafka-features.sh` prints it: the release name for `metadata.version`
/// ("UNKNOWN n" for a level this table does not know), the number for other features.
pub fn level_text(feature: &str, level: i16) -> String {
    if feature != METADATA_VERSION {
        return level.to_string();
    }
    usize::try_from(level)
        .ok()
        .and_then(|l| l.checked_sub(1))
        .and_then(|i| METADATA_VERSIONS.get(i))
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("UNKNOWN {level}"))
}

/// One line of `kafka-features.sh describe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRow {
    /// Feature name.
    pub feature: String,
    /// Lowest level the answering node supports.
    pub supported_min: i16,
    /// Highest level it supports.
    pub supported_max: i16,
    /// The cluster's finalized level (0: not finalized, off).
    pub finalized_level: i16,
    /// The epoch of the finalized features (none when unknown).
    pub epoch: Option<i64>,
    /// The finalized level as the tool prints it ("4.2-IV1" for metadata.version).
    pub version: String,
    /// The supported range as the tool prints it: [min, max].
    pub supported_versions: [String; 2],
}

/// The rows of one ApiVersions answer, sorted by feature name (the tool's order).
pub fn rows_of(response: &ApiVersionsResponse) -> Vec<FeatureRow> {
    let epoch =
        (response.finalized_features_epoch >= 0).then_some(response.finalized_features_epoch);
    let mut rows: Vec<FeatureRow> = response
        .supported_features
        .iter()
        .map(|s| {
            let feature = s.name.to_string();
            let finalized = response
                .finalized_features
                .iter()
                .find(|f| f.name.as_str() == feature)
                .map(|f| f.max_version_level)
                .unwrap_or(0);
            FeatureRow {
                version: level_text(&feature, finalized),
                supported_versions: [
                    level_text(&feature, s.min_version),
                    level_text(&feature, s.max_version),
                ],
                feature,
                supported_min: s.min_version,
                supported_max: s.max_version,
                finalized_level: finalized,
                epoch,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.feature.cmp(&b.feature));
    rows
}

/// An ApiVersions request naming kafsh (v3 and later refuse an empty software name).
pub(crate) fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("kafsh"))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")))
}

/// ApiVersions on any node: a controller when bootstrap controllers are named, else a broker.
async fn api_versions(client: &KafkaClient) -> Result<ApiVersionsResponse> {
    let request = api_versions_request();
    let response = if client.via_controllers() {
        client.send_any_controller(&request).await?
    } else {
        client.send_any(&request).await?
    };
    check_code(response.error_code, None, "ApiVersions")?;
    Ok(response)
}

/// The features as `kafka-features.sh describe` shows them (one node's answer).
pub async fn describe(client: &KafkaClient) -> Result<Vec<FeatureRow>> {
    super::quorum::ensure_kraft(client).await?;
    Ok(rows_of(&api_versions(client).await?))
}

/// The finalized level of `feature` (none when it is not finalized).
pub async fn finalized_level(client: &KafkaClient, feature: &str) -> Result<Option<i16>> {
    let response = api_versions(client).await?;
    Ok(response
        .finalized_features
        .iter()
        .find(|f| f.name.as_str() == feature)
        .map(|f| f.max_version_level))
}

/// One node's supported range of one feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeFeature {
    /// Node id.
    pub node: i32,
    /// "broker" or "controller".
    pub role: String,
    /// Feature name.
    pub feature: String,
    /// Lowest level it supports.
    pub supported_min: i16,
    /// Highest level it supports.
    pub supported_max: i16,
    /// The finalized level this node knows.
    pub finalized_level: i16,
}

/// Every reachable node's supported ranges: the brokers (from the metadata, when brokers
/// are named) and the controllers (when bootstrap controllers are named). A node that does
/// not answer is left out and noted.
pub async fn per_node(client: &KafkaClient) -> Result<Vec<NodeFeature>> {
    super::quorum::ensure_kraft(client).await?;
    let mut nodes: Vec<super::conn::Node> = Vec::new();
    if client.has_brokers() {
        for b in client.metadata(Some(&[])).await?.brokers {
            nodes.push(super::conn::Node::new(
                &format!("{}:{}", b.host.as_str(), b.port),
                Some(b.node_id.0),
            ));
        }
    }
    if client.via_controllers() {
        for c in client.describe_controllers().await?.brokers {
            nodes.push(super::conn::Node::controller(
                &format!("{}:{}", c.host.as_str(), c.port),
                Some(c.broker_id.0),
            ));
        }
    }
    let request = api_versions_request();
    let answers = KafkaClient::join_all(
        nodes
            .iter()
            .map(|n| {
                let request = &request;
                async move { (n, client.send_to_node(n, request).await) }
            })
            .collect(),
    )
    .await;
    let mut out = Vec::new();
    for (node, answer) in answers {
        let answer = answer.and_then(|r| {
            check_code(r.error_code, None, &format!("ApiVersions of {node}"))?;
            Ok(r)
        });
        match answer {
            Ok(r) => {
                for row in rows_of(&r) {
                    out.push(NodeFeature {
                        node: node.id.unwrap_or(-1),
                        role: node.noun().into(),
                        feature: row.feature,
                        supported_min: row.supported_min,
                        supported_max: row.supported_max,
                        finalized_level: row.finalized_level,
                    });
                }
            }
            Err(e) => client.note(format!("{node} left out: {e}")),
        }
    }
    out.sort_by(|a, b| (&a.feature, a.node).cmp(&(&b.feature, b.node)));
    Ok(out)
}

/// How UpdateFeatures may change a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpgradeType {
    /// Raise the level.
    Upgrade,
    /// Lower it only if no metadata is lost.
    SafeDowngrade,
    /// Lower it even if metadata is lost.
    UnsafeDowngrade,
}

impl UpgradeType {
    /// Parses "upgrade", "safe_downgrade" or "unsafe_downgrade".
    pub fn parse(text: &str) -> Result<UpgradeType> {
        match text.to_ascii_lowercase().replace('-', "_").as_str() {
            "upgrade" => Ok(UpgradeType::Upgrade),
            "safe_downgrade" | "downgrade" | "safe" => Ok(UpgradeType::SafeDowngrade),
            "unsafe_downgrade" | "unsafe" => Ok(UpgradeType::UnsafeDowngrade),
            other => Err(Error::InvalidInput(format!(
                "upgrade_type {other:?}: give \"upgrade\", \"safe_downgrade\" or \"unsafe_downgrade\""
            ))),
        }
    }

    /// "upgrade", "safe_downgrade" or "unsafe_downgrade".
    pub fn name(self) -> &'static str {
        match self {
            UpgradeType::Upgrade => "upgrade",
            UpgradeType::SafeDowngrade => "safe_downgrade",
            UpgradeType::UnsafeDowngrade => "unsafe_downgrade",
        }
    }

    fn code(self) -> i8 {
        match self {
            UpgradeType::Upgrade => 1,
            UpgradeType::SafeDowngrade => 2,
            UpgradeType::UnsafeDowngrade => 3,
        }
    }
}

/// What update_feature did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureChange {
    /// Feature name.
    pub feature: String,
    /// The finalized level before.
    pub from: i16,
    /// The level asked for.
    pub to: i16,
    /// The levels as text ("4.2-IV1 -> 4.1-IV1" for metadata.version).
    pub shown: String,
    /// How.
    pub upgrade_type: UpgradeType,
    /// What a downgrade gives up (none for an upgrade).
    pub loses: Option<String>,
    /// Nothing changed: the controller only validated it (--dry-run), or the level was
    /// already finalized.
    pub changed: bool,
    /// --dry-run.
    pub dry_run: bool,
}

/// What lowering `feature` from `from` to `to` gives up, in words.
pub fn downgrade_loses(feature: &str, from: i16, to: i16, how: UpgradeType) -> String {
    let off = to == 0;
    let what = match feature {
        METADATA_VERSION => format!(
            "every metadata feature introduced after {}; metadata records those versions wrote {}",
            level_text(feature, to),
            if how == UpgradeType::UnsafeDowngrade {
                "are dropped (lossy)"
            } else {
                "make the controller refuse a safe downgrade"
            }
        ),
        "kraft.version" => {
            "the dynamic controller quorum (KIP-853: adding and removing controllers); Kafka does not support this downgrade"
                .into()
        }
        "group.version" if off => {
            "the consumer group protocol of KIP-848 (group.protocol=consumer): such groups stop working"
                .into()
        }
        "transaction.version" => format!(
            "transactions {} (KIP-890's server-side defence against hanging transactions)",
            if to < 2 { "v2" } else { "above this level" }
        ),
        "eligible.leader.replicas.version" if off => {
            "eligible leader replicas (KIP-966): unclean-safe elections fall back to the ISR alone"
                .into()
        }
        "share.version" if off => "share groups (KIP-932): such groups stop working".into(),
        "streams.version" if off => {
            "the streams rebalance protocol (KIP-1071): such groups stop working".into()
        }
        _ => format!("what levels above {to} enable"),
    };
    format!(
        "downgrading {feature} from {} to {} gives up {what}",
        level_text(feature, from),
        level_text(feature, to)
    )
}

/// Sets `feature` to `level` (UpdateFeatures at the controller). A downgrade needs `force`
/// (an `OutOfProportion` error says what it gives up) and, unless `upgrade_type` says
/// otherwise, is a safe one. With `dry_run` the controller only validates the change.
pub async fn update(
    client: &KafkaClient,
    feature: &str,
    level: i16,
    upgrade_type: Option<UpgradeType>,
    dry_run: bool,
    force: bool,
) -> Result<FeatureChange> {
    let rows = describe(client).await?;
    let Some(row) = rows.iter().find(|r| r.feature == feature) else {
        let known: Vec<&str> = rows.iter().map(|r| r.feature.as_str()).collect();
        return Err(Error::InvalidInput(format!(
            "unknown feature {feature:?} (known: {})",
            known.join(", ")
        )));
    };
    if level < 0 {
        return Err(Error::InvalidInput(format!(
            "level {level} of {feature}: give 0 (off) or a supported level"
        )));
    }
    if level > row.supported_max {
        return Err(Error::InvalidInput(format!(
            "{feature} level {} is above what the nodes support ({}..{})",
            level_text(feature, level),
            level_text(feature, row.supported_min),
            level_text(feature, row.supported_max)
        )));
    }
    let from = row.finalized_level;
    let downgrade = level < from;
    let how = match (upgrade_type, downgrade) {
        (None, false) => UpgradeType::Upgrade,
        (None, true) => UpgradeType::SafeDowngrade,
        (Some(UpgradeType::Upgrade), true) => {
            return Err(Error::InvalidInput(format!(
                "{feature} {} -> {} is a downgrade: give upgrade_type \"safe_downgrade\" or \"unsafe_downgrade\"",
                level_text(feature, from),
                level_text(feature, level)
            )))
        }
        (Some(t), false) if t != UpgradeType::Upgrade && level > from => {
            return Err(Error::InvalidInput(format!(
                "{feature} {} -> {} is an upgrade, not a downgrade",
                level_text(feature, from),
                level_text(feature, level)
            )))
        }
        (Some(t), _) => t,
    };
    let loses = downgrade.then(|| downgrade_loses(feature, from, level, how));
    let mut change = FeatureChange {
        feature: feature.to_string(),
        from,
        to: level,
        shown: format!(
            "{} -> {}",
            level_text(feature, from),
            level_text(feature, level)
        ),
        upgrade_type: how,
        loses: loses.clone(),
        changed: false,
        dry_run,
    };
    if level == from {
        return Ok(change);
    }
    if let (Some(loses), false) = (&loses, force) {
        return Err(Error::OutOfProportion(loses.clone()));
    }
    let request = UpdateFeaturesRequest::default()
        .with_timeout_ms(i32::try_from((client.timeout() * 3 / 4).as_millis()).unwrap_or(i32::MAX))
        .with_validate_only(dry_run)
        .with_feature_updates(vec![FeatureUpdateKey::default()
            .with_feature(StrBytes::from_string(feature.to_string()))
            .with_max_version_level(level)
            .with_upgrade_type(how.code())]);
    let response = client.send_to_quorum(&request).await?;
    let what = format!("{feature} {}", change.shown);
    check_code(response.error_code, response.error_message.as_ref(), &what)?;
    for r in &response.results {
        check_code(r.error_code, r.error_message.as_ref(), &what)?;
    }
    change.changed = !dry_run;
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_versions_print_as_the_tool_does() {
        assert_eq!(level_text(METADATA_VERSION, 7), "3.3-IV3");
        assert_eq!(level_text(METADATA_VERSION, 21), "3.9-IV0");
        assert_eq!(level_text(METADATA_VERSION, 29), "4.2-IV1");
        assert_eq!(level_text(METADATA_VERSION, 31), "4.4-IV0");
        assert_eq!(level_text(METADATA_VERSION, 34), "4.5-IV0");
        assert_eq!(level_text(METADATA_VERSION, 35), "UNKNOWN 35");
        assert_eq!(level_text(METADATA_VERSION, 0), "UNKNOWN 0");
        assert_eq!(level_text(METADATA_VERSION, 99), "UNKNOWN 99");
        assert_eq!(level_text("kraft.version", 1), "1");
    }

    #[test]
    fn downgrades_say_what_they_give_up() {
        let m = downgrade_loses(METADATA_VERSION, 29, 25, UpgradeType::UnsafeDowngrade);
        assert!(
            m.starts_with("downgrading metadata.version from 4.2-IV1 to 4.0-IV3"),
            "{m}"
        );
        assert!(m.contains("dropped"), "{m}");
        let g = downgrade_loses("group.version", 1, 0, UpgradeType::SafeDowngrade);
        assert!(g.contains("KIP-848"), "{g}");
        assert!(UpgradeType::parse("unsafe-downgrade").is_ok());
        assert!(UpgradeType::parse("sideways").is_err());
    }
}
