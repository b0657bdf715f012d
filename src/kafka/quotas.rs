//! Client quotas (DescribeClientQuotas / AlterClientQuotas): byte rates, request
//! percentage and controller mutation rate per user, client id or user+client pair, and
//! connection creation rate per IP address — each also as a default for every user, client
//! or IP without its own. What `kafka-configs.sh --entity-type users|clients|ips` changes.

use super::client::{check_code, KafkaClient};
use crate::error::{Error, Result};
use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::{AlterClientQuotasRequest, DescribeClientQuotasRequest};
use kafka_protocol::protocol::StrBytes;
use serde::Serialize;
use std::collections::BTreeMap;

/// How an entity's default is written: Kafka's own spelling (its ZooKeeper path, `<default>`).
pub const DEFAULT_NAME: &str = "<default>";

/// The quota keys for users and clients.
pub const CLIENT_KEYS: &[&str] = &[
    "producer_byte_rate",
    "consumer_byte_rate",
    "request_percentage",
    "controller_mutation_rate",
];
/// The quota key for IP addresses.
pub const IP_KEYS: &[&str] = &["connection_creation_rate"];

/// One part of an entity: a name, or the default.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Name {
    /// This user, client id or IP.
    Named(String),
    /// Every one without a quota of its own.
    Default,
}

impl Name {
    /// "<default>" is the default; anything else a name.
    pub fn parse(text: &str) -> Name {
        if text == DEFAULT_NAME {
            Name::Default
        } else {
            Name::Named(text.to_string())
        }
    }

    fn wire(&self) -> Option<StrBytes> {
        match self {
            Name::Named(n) => Some(StrBytes::from_string(n.clone())),
            Name::Default => None,
        }
    }

    fn text(&self) -> &str {
        match self {
            Name::Named(n) => n,
            Name::Default => DEFAULT_NAME,
        }
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.text())
    }
}

/// Whom a quota applies to: a user, a client id, both, or an IP address.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct QuotaEntity {
    /// The user (principal name), or the default user.
    pub user: Option<Name>,
    /// The client id, or the default client.
    pub client_id: Option<Name>,
    /// The IP address, or the default IP.
    pub ip: Option<Name>,
}

impl QuotaEntity {
    /// Checks the combination Kafka takes: a user, a client, both, or an IP alone.
    pub fn validate(&self) -> Result<()> {
        if self.user.is_none() && self.client_id.is_none() && self.ip.is_none() {
            return Err(Error::InvalidInput(
                "name a user, a client_id, both, or an ip".into(),
            ));
        }
        if self.ip.is_some() && (self.user.is_some() || self.client_id.is_some()) {
            return Err(Error::InvalidInput(
                "an ip quota stands alone: it cannot be combined with a user or client_id".into(),
            ));
        }
        if let Some(Name::Named(ip)) = &self.ip {
            if ip.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::InvalidInput(format!(
                    "ip {ip:?} is not an IP address"
                )));
            }
        }
        for name in [&self.user, &self.client_id].into_iter().flatten() {
            if let Name::Named(n) = name {
                if n.is_empty() {
                    return Err(Error::InvalidInput(
                        "an empty name; the default is \"<default>\"".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The keys this entity can have.
    pub fn keys(&self) -> &'static [&'static str] {
        if self.ip.is_some() {
            IP_KEYS
        } else {
            CLIENT_KEYS
        }
    }

    /// `user "alice", client-id "app"`, `the default ip`, as kafka-configs.sh says it.
    pub fn describe(&self) -> String {
        let part = |what: &str, n: &Option<Name>| {
            n.as_ref().map(|n| match n {
                Name::Named(n) => format!("{what} {n:?}"),
                Name::Default => format!("the default {what}"),
            })
        };
        [
            part("user", &self.user),
            part("client-id", &self.client_id),
            part("ip", &self.ip),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// Whether any part is a default.
    pub fn is_default(&self) -> bool {
        [&self.user, &self.client_id, &self.ip]
            .iter()
            .any(|n| matches!(n, Some(Name::Default)))
    }

    fn parts(&self) -> Vec<(&'static str, &Name)> {
        let mut out = Vec::new();
        if let Some(u) = &self.user {
            out.push(("user", u));
        }
        if let Some(c) = &self.client_id {
            out.push(("client-id", c));
        }
        if let Some(i) = &self.ip {
            out.push(("ip", i));
        }
        out
    }
}

/// One entity's quotas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaEntry {
    /// The user, if the entity has one.
    pub user: Option<Name>,
    /// The client id, if the entity has one.
    pub client_id: Option<Name>,
    /// The IP, for an IP entity.
    pub ip: Option<Name>,
    /// Quota key → value.
    pub quotas: BTreeMap<String, f64>,
}

impl QuotaEntry {
    /// The entity of this entry.
    pub fn entity(&self) -> QuotaEntity {
        QuotaEntity {
            user: self.user.clone(),
            client_id: self.client_id.clone(),
            ip: self.ip.clone(),
        }
    }
}

/// Which entries `describe_quotas` returns; a part left out matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaFilter {
    /// Entries of this user (or of the default user).
    pub user: Option<Name>,
    /// Entries of this client id.
    pub client_id: Option<Name>,
    /// Entries of this IP.
    pub ip: Option<Name>,
    /// Only entries with a default part.
    pub defaults: bool,
}

impl QuotaFilter {
    /// Whether `entry` passes.
    pub fn matches(&self, entry: &QuotaEntry) -> bool {
        let part = |want: &Option<Name>, got: &Option<Name>| want.is_none() || want == got;
        part(&self.user, &entry.user)
            && part(&self.client_id, &entry.client_id)
            && part(&self.ip, &entry.ip)
            && (!self.defaults || entry.entity().is_default())
    }
}

/// Every quota entry (users, clients, user+client pairs, IPs and defaults) that `filter`
/// passes, sorted by entity.
pub async fn describe_quotas(
    client: &KafkaClient,
    filter: &QuotaFilter,
) -> Result<Vec<QuotaEntry>> {
    let request = DescribeClientQuotasRequest::default()
        .with_components(Vec::new())
        .with_strict(false);
    let response = client.send_any(&request).await?;
    check_code(
        response.error_code,
        response.error_message.as_ref(),
        "DescribeClientQuotas",
    )?;
    let mut out = Vec::new();
    for e in response.entries.unwrap_or_default() {
        let mut entry = QuotaEntry {
            user: None,
            client_id: None,
            ip: None,
            quotas: BTreeMap::new(),
        };
        for part in &e.entity {
            let name = match &part.entity_name {
                Some(n) => Name::Named(n.as_str().to_string()),
                None => Name::Default,
            };
            match part.entity_type.as_str() {
                "user" => entry.user = Some(name),
                "client-id" => entry.client_id = Some(name),
                "ip" => entry.ip = Some(name),
                _ => {}
            }
        }
        for v in &e.values {
            entry.quotas.insert(v.key.as_str().to_string(), v.value);
        }
        if filter.matches(&entry) {
            out.push(entry);
        }
    }
    // Users first (as kafka-configs.sh lists them), then clients, then IPs.
    out.sort_by_key(|e| {
        (
            e.ip.is_some(),
            e.user.is_none(),
            e.user.clone(),
            e.client_id.is_some() && e.user.is_some(),
            e.client_id.clone(),
            e.ip.clone(),
        )
    });
    Ok(out)
}

/// The quotas of exactly `entity` (empty when it has none).
pub async fn quotas_of(
    client: &KafkaClient,
    entity: &QuotaEntity,
) -> Result<BTreeMap<String, f64>> {
    Ok(describe_quotas(client, &QuotaFilter::default())
        .await?
        .into_iter()
        .find(|e| &e.entity() == entity)
        .map(|e| e.quotas)
        .unwrap_or_default())
}

/// One key's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaChangeLine {
    /// The quota key.
    pub key: String,
    /// Its value before, none when it was not set.
    pub old: Option<f64>,
    /// Its value after, none when removed.
    pub new: Option<f64>,
}

/// What `set_quota` / `delete_quota` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuotaChange {
    /// The entity, in words.
    pub entity: String,
    /// The entity.
    #[serde(skip)]
    pub subject: QuotaEntity,
    /// One line per key.
    pub changes: Vec<QuotaChangeLine>,
    /// True when nothing was changed (the broker still validated the change).
    pub dry_run: bool,
}

/// Checks quota keys and values for `entity`: known keys, positive values, and a floor a
/// typo would fall below (a byte rate under 1 KiB/s, a request or creation rate under 1)
/// that would all but stop the clients it covers, refused unless `force`.
pub fn check_values(entity: &QuotaEntity, set: &BTreeMap<String, f64>, force: bool) -> Result<()> {
    let keys = entity.keys();
    for (k, v) in set {
        if !keys.contains(&k.as_str()) {
            return Err(Error::InvalidInput(format!(
                "{k:?} is not a quota of {} (it takes {})",
                entity.describe(),
                keys.join(", ")
            )));
        }
        if !v.is_finite() || *v <= 0.0 {
            return Err(Error::InvalidInput(format!(
                "{k} = {v}: a quota is a positive number"
            )));
        }
        let floor = if k.ends_with("_byte_rate") {
            1024.0
        } else {
            1.0
        };
        if *v < floor && !force {
            let who = if entity.is_default() {
                "every client it covers".to_string()
            } else {
                entity.describe()
            };
            return Err(Error::OutOfProportion(format!(
                "{k} = {v} is below {floor}: it would all but stop {who}"
            )));
        }
    }
    Ok(())
}

fn entity_data(entity: &QuotaEntity) -> Vec<EntityData> {
    entity
        .parts()
        .into_iter()
        .map(|(t, n)| {
            EntityData::default()
                .with_entity_type(StrBytes::from_static_str(t))
                .with_entity_name(n.wire())
        })
        .collect()
}

/// Sets `set` and removes `remove` on `entity` (AlterClientQuotas); other keys keep their
/// values. With `dry_run` the broker validates and nothing changes.
pub async fn alter_quotas(
    client: &KafkaClient,
    entity: &QuotaEntity,
    set: &BTreeMap<String, f64>,
    remove: &[String],
    force: bool,
    dry_run: bool,
) -> Result<QuotaChange> {
    entity.validate()?;
    if set.is_empty() && remove.is_empty() {
        return Err(Error::InvalidInput("no quota to set or remove".into()));
    }
    check_values(entity, set, force)?;
    let before = quotas_of(client, entity).await?;
    let not_set: Vec<&str> = remove
        .iter()
        .filter(|k| !before.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !not_set.is_empty() {
        return Err(Error::NotFound(format!(
            "{} has no quota {} (it has: {})",
            entity.describe(),
            not_set.join(", "),
            if before.is_empty() {
                "none".to_string()
            } else {
                before.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )));
    }
    let mut ops = Vec::new();
    let mut changes = Vec::new();
    for (k, v) in set {
        ops.push(
            OpData::default()
                .with_key(StrBytes::from_string(k.clone()))
                .with_value(*v)
                .with_remove(false),
        );
        changes.push(QuotaChangeLine {
            key: k.clone(),
            old: before.get(k).copied(),
            new: Some(*v),
        });
    }
    for k in remove {
        ops.push(
            OpData::default()
                .with_key(StrBytes::from_string(k.clone()))
                .with_remove(true),
        );
        changes.push(QuotaChangeLine {
            key: k.clone(),
            old: before.get(k).copied(),
            new: None,
        });
    }
    let request = AlterClientQuotasRequest::default()
        .with_entries(vec![EntryData::default()
            .with_entity(entity_data(entity))
            .with_ops(ops)])
        .with_validate_only(dry_run);
    let response = client.send_any(&request).await?;
    for e in &response.entries {
        check_code(e.error_code, e.error_message.as_ref(), &entity.describe())?;
    }
    if !dry_run {
        wait_in_effect(client, entity, &changes).await;
    }
    Ok(QuotaChange {
        entity: entity.describe(),
        subject: entity.clone(),
        changes,
        dry_run,
    })
}

/// Waits (up to 10 s) until a describe shows the change on the broker answering it.
async fn wait_in_effect(client: &KafkaClient, entity: &QuotaEntity, changes: &[QuotaChangeLine]) {
    let deadline =
        tokio::time::Instant::now() + client.timeout().min(std::time::Duration::from_secs(10));
    loop {
        if let Ok(now) = quotas_of(client, entity).await {
            if changes.iter().all(|c| now.get(&c.key).copied() == c.new) {
                return;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: &str) -> QuotaEntity {
        QuotaEntity {
            user: Some(Name::parse(n)),
            ..QuotaEntity::default()
        }
    }

    #[test]
    fn entities_combine_as_kafka_allows() {
        assert!(user("alice").validate().is_ok());
        assert!(QuotaEntity::default().validate().is_err());
        let mixed = QuotaEntity {
            user: Some(Name::parse("alice")),
            ip: Some(Name::parse("10.0.0.1")),
            ..QuotaEntity::default()
        };
        assert!(mixed.validate().is_err());
        let bad_ip = QuotaEntity {
            ip: Some(Name::parse("host.example")),
            ..QuotaEntity::default()
        };
        assert!(bad_ip.validate().is_err());
        let default_ip = QuotaEntity {
            ip: Some(Name::parse("<default>")),
            ..QuotaEntity::default()
        };
        assert!(default_ip.validate().is_ok());
        assert_eq!(default_ip.describe(), "the default ip");
        let pair = QuotaEntity {
            user: Some(Name::parse("alice")),
            client_id: Some(Name::parse("app")),
            ..QuotaEntity::default()
        };
        assert_eq!(pair.describe(), "user \"alice\", client-id \"app\"");
        assert_eq!(
            serde_json::to_value(user("<default>")).unwrap(),
            serde_json::json!({"user": "<default>", "client_id": null, "ip": null})
        );
    }

    #[test]
    fn values_are_checked_and_typos_refused() {
        let mut set = BTreeMap::new();
        set.insert("producer_byte_rate".to_string(), 1_048_576.0);
        assert!(check_values(&user("alice"), &set, false).is_ok());
        set.insert("producer_byte_rate".to_string(), 10.0);
        let e = check_values(&user("<default>"), &set, false).unwrap_err();
        assert!(matches!(e, Error::OutOfProportion(_)), "{e}");
        assert!(e.to_string().contains("every client"), "{e}");
        assert!(check_values(&user("alice"), &set, true).is_ok());
        let mut bad = BTreeMap::new();
        bad.insert("connection_creation_rate".to_string(), 5.0);
        assert!(check_values(&user("alice"), &bad, false).is_err());
        let ip = QuotaEntity {
            ip: Some(Name::parse("10.0.0.1")),
            ..QuotaEntity::default()
        };
        assert!(check_values(&ip, &bad, false).is_ok());
        let mut negative = BTreeMap::new();
        negative.insert("request_percentage".to_string(), -1.0);
        assert!(matches!(
            check_values(&user("a"), &negative, true),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn filters_pick_entries() {
        let entry = |u: Option<&str>, c: Option<&str>| QuotaEntry {
            user: u.map(Name::parse),
            client_id: c.map(Name::parse),
            ip: None,
            quotas: BTreeMap::new(),
        };
        let alice = entry(Some("alice"), None);
        let pair = entry(Some("alice"), Some("app"));
        let def = entry(Some("<default>"), None);
        let by_user = QuotaFilter {
            user: Some(Name::parse("alice")),
            ..QuotaFilter::default()
        };
        assert!(by_user.matches(&alice) && by_user.matches(&pair) && !by_user.matches(&def));
        let defaults = QuotaFilter {
            defaults: true,
            ..QuotaFilter::default()
        };
        assert!(defaults.matches(&def) && !defaults.matches(&alice));
    }
}
