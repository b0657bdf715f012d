//! Rhai functions for transactions: list, describe, the producers of a partition, hanging
//! transactions and aborting one.

use rhai::plugin::*;

/// Transactions
///
/// What `kafka-transactions.sh` shows and does: the transactional ids each coordinator
/// knows, one transaction's state, the producers writing a partition, hanging transactions
/// (open in a partition although their coordinator no longer counts them there, which
/// holds back every read_committed consumer), and aborting one of those.
#[export_module]
pub mod api {
    use super::partition_of;
    use crate::kafka::transactions;
    use crate::script::convert::{to_array, to_map, Options};
    use crate::script::{kafka_call as call, script_error, session_of};
    use rhai::{Array, EvalAltResult, Map, NativeCallContext};

    /// Every transactional id the coordinators know, with its coordinator, producer id and
    /// state, like `kafka-transactions.sh list`. Options: `state` (a state or a list:
    /// "Ongoing", "PrepareCommit", "CompleteAbort", ...), `producer_id` (an id or a list).
    /// A broker that does not answer is reported and the others' transactions returned.
    ///
    /// ```rhai
    /// let all = list_transactions();
    /// let open = list_transactions(#{state: "Ongoing"});
    /// ```
    #[rhai_fn(return_raw, name = "list_transactions")]
    pub fn list_transactions_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "list_transactions";
        let opts = Options::new(f, &options, &["state", "producer_id"])?;
        let states = opts
            .string_list("state")?
            .iter()
            .map(|s| transactions::parse_state(s))
            .collect::<crate::error::Result<Vec<_>>>()
            .map_err(|e| script_error(&session, f, e))?;
        let filter = transactions::TransactionFilter {
            states,
            producer_ids: opts.int_list("producer_id")?,
        };
        let result = call(&session, f, |k| async move {
            transactions::list_transactions(&k, &filter).await
        })?;
        to_array(&result)
    }

    /// Every transactional id the coordinators know.
    #[rhai_fn(return_raw, name = "list_transactions")]
    pub fn list_transactions(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        list_transactions_with(ctx, Map::new())
    }

    /// One transactional id at its coordinator, like `kafka-transactions.sh describe`:
    /// coordinator, producer id and epoch, state, timeout, start time and duration of the
    /// current transaction, and the partitions it writes.
    ///
    /// ```rhai
    /// let t = describe_transaction("payments-tx-1");
    /// print(`${t.state} for ${t.duration_ms} ms`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn describe_transaction(
        ctx: NativeCallContext,
        transactional_id: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let id = transactional_id.to_string();
        let result = call(&session, "describe_transaction", |k| async move {
            transactions::describe_transaction(&k, &id).await
        })?;
        to_map(&result)
    }

    /// The producers writing a partition, like `kafka-transactions.sh describe-producers`:
    /// producer id and epoch, the coordinator epoch of its last marker, last sequence and
    /// timestamp, and where its open transaction starts (none without one). Asked of the
    /// leader, or of one replica with `#{broker: id}`.
    ///
    /// ```rhai
    /// let producers = describe_producers("payments", 0);
    /// let open = producers.filter(|p| p.current_txn_start_offset != ());
    /// ```
    #[rhai_fn(return_raw, name = "describe_producers")]
    pub fn describe_producers_with(
        ctx: NativeCallContext,
        topic: &str,
        partition: i64,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "describe_producers";
        let opts = Options::new(f, &options, &["broker"])?;
        let broker = opts.int("broker")?.map(|b| b as i32);
        let partition = partition_of(&session, f, partition)?;
        let topic = topic.to_string();
        let result = call(&session, f, |k| async move {
            transactions::describe_producers(&k, &topic, partition, broker).await
        })?;
        to_array(&result)
    }

    /// The producers writing a partition, asked of its leader.
    #[rhai_fn(return_raw, name = "describe_producers")]
    pub fn describe_producers(
        ctx: NativeCallContext,
        topic: &str,
        partition: i64,
    ) -> Result<Array, Box<EvalAltResult>> {
        describe_producers_with(ctx, topic, partition, Map::new())
    }

    /// Hanging transactions, found as `kafka-transactions.sh find-hanging` finds them: open
    /// transactions whose producer last wrote longer ago than any transaction may last
    /// (`max_transaction_timeout`, default "15m", the brokers' transaction.max.timeout.ms)
    /// and whose coordinator does not know the producer or does not count the partition in
    /// its transaction. Each row says `why`. Options (a topic or a broker is needed):
    /// `topic`, `partition`, `broker` (every partition it holds, asked of it).
    ///
    /// ```rhai
    /// let hanging = find_hanging(#{topic: "payments"});
    /// let on_broker = find_hanging(#{broker: 1, max_transaction_timeout: "5m"});
    /// ```
    #[rhai_fn(return_raw)]
    pub fn find_hanging(ctx: NativeCallContext, options: Map) -> Result<Array, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "find_hanging";
        let opts = Options::new(
            f,
            &options,
            &["topic", "partition", "broker", "max_transaction_timeout"],
        )?;
        let partition = match opts.int("partition")? {
            Some(p) => Some(partition_of(&session, f, p)?),
            None => None,
        };
        let query = transactions::HangingQuery {
            broker: opts.int("broker")?.map(|b| b as i32),
            topic: opts.string("topic")?,
            partition,
            max_transaction_timeout: opts.duration(
                "max_transaction_timeout",
                std::time::Duration::from_secs(15 * 60),
            )?,
        };
        let result = call(&session, f, |k| async move {
            transactions::find_hanging(&k, &query).await
        })?;
        to_array(&result)
    }

    /// Abort a producer's open transaction in one partition, as `kafka-transactions.sh
    /// abort` does (an abort marker written at the partition's leader), so read_committed
    /// consumers can move past it. Refused unless the transaction hangs (its coordinator no
    /// longer counts the partition in it): a live producer's transaction finishes or times
    /// out by itself, and aborting it behind its back breaks its exactly-once writes —
    /// `force: true` aborts it anyway. Honours --dry-run.
    ///
    /// ```rhai
    /// for h in find_hanging(#{topic: "payments"}) {
    ///     abort_transaction(h.topic, h.partition, h.producer_id);
    /// }
    /// ```
    #[rhai_fn(return_raw, name = "abort_transaction")]
    pub fn abort_transaction_with(
        ctx: NativeCallContext,
        topic: &str,
        partition: i64,
        producer_id: i64,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let session = session_of(&ctx)?;
        let f = "abort_transaction";
        let opts = Options::new(f, &options, &["force"])?;
        let force = opts.bool("force")?.unwrap_or(false);
        let partition = partition_of(&session, f, partition)?;
        let dry_run = session.options.dry_run;
        let topic = topic.to_string();
        let result = call(&session, f, |k| async move {
            transactions::abort_transaction(&k, &topic, partition, producer_id, force, dry_run)
                .await
        })?;
        session.mutation(
            f,
            &format!("{}-{}", result.topic, result.partition),
            &format!(
                "abort producer {}'s transaction from offset {}{}",
                result.producer_id,
                result.start_offset,
                match &result.hanging {
                    Some(why) => format!(" (hanging: {why})"),
                    None => " (forced: not hanging)".to_string(),
                }
            ),
            serde_json::json!({
                "topic": result.topic,
                "partition": result.partition,
                "producer_id": result.producer_id,
                "producer_epoch": result.producer_epoch,
                "coordinator_epoch": result.coordinator_epoch,
                "start_offset": result.start_offset,
                "hanging": result.hanging,
            }),
        );
        to_map(&result)
    }

    /// Abort a hanging transaction of a producer in one partition.
    #[rhai_fn(return_raw, name = "abort_transaction")]
    pub fn abort_transaction(
        ctx: NativeCallContext,
        topic: &str,
        partition: i64,
        producer_id: i64,
    ) -> Result<Map, Box<EvalAltResult>> {
        abort_transaction_with(ctx, topic, partition, producer_id, Map::new())
    }
}

/// A partition number from a script integer.
fn partition_of(
    session: &crate::script::Session,
    f: &str,
    partition: i64,
) -> Result<i32, Box<rhai::EvalAltResult>> {
    i32::try_from(partition)
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| {
            crate::script::script_error(
                session,
                f,
                crate::error::Error::InvalidInput(format!("{partition} is not a partition number")),
            )
        })
}
