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
//
// The record classes (MemoryRecords, SimpleRecord) are internal: Kafka 4.4 moved them to
// org.apache.kafka.common.record.internal, so they are looked up by name in either package.

import java.io.DataInputStream;
import java.io.OutputStream;
import java.lang.reflect.Array;
import java.lang.reflect.Method;
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
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class HangingTransaction {
    /** A record class of Kafka 4.4 and later, else of the releases before. */
    static Class<?> recordClass(String name) throws ClassNotFoundException {
        try {
            return Class.forName("org.apache.kafka.common.record.internal." + name);
        } catch (ClassNotFoundException e) {
            return Class.forName("org.apache.kafka.common.record." + name);
        }
    }

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
        Class<?> simpleRecord = recordClass("SimpleRecord");
        Object batch = Array.newInstance(simpleRecord, 1);
        Array.set(batch, 0, simpleRecord.getConstructor(long.class, byte[].class, byte[].class)
            .newInstance(anHourAgo, "k".getBytes(), "hanging".getBytes()));
        Object records = recordClass("MemoryRecords")
            .getMethod("withTransactionalRecords", Compression.class, long.class, short.class, int.class,
                batch.getClass())
            .invoke(null, Compression.NONE, producerId, epoch, 0, batch);
        ProduceRequestData.PartitionProduceData partitionData =
            new ProduceRequestData.PartitionProduceData().setIndex(partition);
        for (Method m : ProduceRequestData.PartitionProduceData.class.getMethods()) {
            if (m.getName().equals("setRecords")) {
                m.invoke(partitionData, records);
            }
        }
        ProduceRequestData.TopicProduceDataCollection topics = new ProduceRequestData.TopicProduceDataCollection();
        topics.add(new ProduceRequestData.TopicProduceData()
            .setName(topic)
            .setPartitionData(Collections.singletonList(partitionData)));
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
