// Test fixture (run by tests/common/access_suite.rs with Java's single-file launcher and the
// sandbox's Kafka jars, 3.9 or 4.x): leaves a hanging transaction in one partition, made
// with Kafka's own client classes.
//
//   java -cp '<jars>/*' tests/java/HangingTransaction.java BOOTSTRAP TOPIC PARTITION TRANSACTIONAL_ID
//
// 1. A transactional KafkaProducer gets a producer id and epoch from the coordinator
//    (initTransactions) and closes without a transaction: the coordinator keeps the id in
//    state Empty.
// 2. A ProduceRequest built with Kafka's message classes writes a transactional batch of
//    that producer to the partition's leader without AddPartitionsToTxn, stamped an hour
//    ago. The partition now has an open transaction its coordinator does not count: what a
//    lost AddPartitionsToTxn left behind before KIP-890. The brokers must run with
//    transaction.partition.verification.enable=false, or the leader asks the coordinator
//    and refuses the batch.
//
// Prints "producer <id> epoch <epoch> offset <base offset>".

import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.record.SimpleRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class HangingTransaction {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String topic = args[1];
        int partition = Integer.parseInt(args[2]);
        String transactionalId = args[3];

        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("transactional.id", transactionalId);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
        }

        Properties a = new Properties();
        a.put("bootstrap.servers", bootstrap);
        long producerId;
        short epoch;
        Node leader;
        try (Admin admin = Admin.create(a)) {
            TransactionDescription d = admin.describeTransactions(Collections.singleton(transactionalId))
                .description(transactionalId).get();
            producerId = d.producerId();
            epoch = (short) d.producerEpoch();
            TopicDescription t = admin.describeTopics(Collections.singleton(topic))
                .allTopicNames().get().get(topic);
            leader = t.partitions().get(partition).leader();
        }

        long anHourAgo = System.currentTimeMillis() - 3_600_000L;
        MemoryRecords records = MemoryRecords.withTransactionalRecords(
            Compression.NONE, producerId, epoch, 0,
            new SimpleRecord(anHourAgo, "k".getBytes(), "hanging".getBytes()));
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData()
            .setName(topic)
            .setPartitionData(Collections.singletonList(
                new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(records))));
        ProduceRequestData request = new ProduceRequestData()
            .setAcks((short) -1)
            .setTimeoutMs(30_000)
            .setTransactionalId(transactionalId)
            .setTopicData(topics);
        short version = 9;
        RequestHeaderData header = new RequestHeaderData()
            .setRequestApiKey(ApiKeys.PRODUCE.id)
            .setRequestApiVersion(version)
            .setCorrelationId(1)
            .setClientId("hanging-transaction-fixture");
        short headerVersion = ApiKeys.PRODUCE.requestHeaderVersion(version);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer out = ByteBuffer.allocate(4 + size);
        out.putInt(size);
        ByteBufferAccessor writer = new ByteBufferAccessor(out);
        header.write(writer, cache, headerVersion);
        request.write(writer, cache, version);

        try (Socket socket = new Socket(leader.host(), leader.port())) {
            OutputStream os = socket.getOutputStream();
            os.write(out.array(), 0, out.position());
            os.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] body = new byte[in.readInt()];
            in.readFully(body);
            ByteBufferAccessor reader = new ByteBufferAccessor(ByteBuffer.wrap(body));
            new ResponseHeaderData(reader, ApiKeys.PRODUCE.responseHeaderVersion(version));
            ProduceResponseData response = new ProduceResponseData(reader, version);
            ProduceResponseData.PartitionProduceResponse r =
                response.responses().iterator().next().partitionResponses().get(0);
            if (r.errorCode() != 0) {
                System.err.println("produce failed: error " + r.errorCode() + " " + r.errorMessage());
                System.exit(1);
            }
            System.out.println("producer " + producerId + " epoch " + epoch + " offset " + r.baseOffset());
        }

        Properties plain = new Properties();
        plain.put("bootstrap.servers", bootstrap);
        plain.put("acks", "all");
        plain.put("key.serializer", ByteArraySerializer.class.getName());
        plain.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(plain)) {
            producer.send(new ProducerRecord<>(topic, partition, null, "after".getBytes())).get();
        }
    }
}
