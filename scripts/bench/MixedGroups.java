// Bench fixture (run by scripts/bench.sh with Java's single-file launcher and the sandbox's
// Kafka 4 jars): consumer groups on the KIP-848 protocol and share groups, each joined once
// by a real client that reads part of its topic and commits (or acknowledges), then leaves.
//
//   java -cp '<jars>/*' scripts/bench/MixedGroups.java BOOTSTRAP PREFIX CONSUMER_GROUPS SHARE_GROUPS TOPICS
//
// Group i reads topic PREFIX-t(i % TOPICS).

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class MixedGroups {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String prefix = args[1];
        int consumerGroups = Integer.parseInt(args[2]);
        int shareGroups = Integer.parseInt(args[3]);
        int topics = Integer.parseInt(args[4]);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<?>> joined = new ArrayList<>();
        for (int i = 0; i < consumerGroups; i++) {
            String group = prefix + "-c" + i;
            String topic = prefix + "-t" + (i % topics);
            joined.add(pool.submit(() -> consumer(bootstrap, group, topic)));
        }
        for (int i = 0; i < shareGroups; i++) {
            String group = prefix + "-s" + i;
            String topic = prefix + "-t" + (i % topics);
            joined.add(pool.submit(() -> share(bootstrap, group, topic)));
        }
        for (Future<?> f : joined) {
            f.get();
        }
        pool.shutdown();
        System.out.println(consumerGroups + " consumer groups, " + shareGroups + " share groups");
    }

    static Properties props(String bootstrap, String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        return p;
    }

    /** Joins on the consumer protocol, reads one poll's worth from the start, commits, leaves. */
    static Void consumer(String bootstrap, String group, String topic) {
        Properties p = props(bootstrap, group);
        p.put("group.protocol", "consumer");
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("max.poll.records", "50");
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.subscribe(List.of(topic));
            long until = System.currentTimeMillis() + 60_000;
            while (c.assignment().isEmpty() && System.currentTimeMillis() < until) {
                c.poll(Duration.ofMillis(200));
            }
            c.poll(Duration.ofMillis(500));
            c.commitSync();
        }
        return null;
    }

    /** Joins a share group and polls a while, so its share-partitions get state. */
    static Void share(String bootstrap, String group, String topic) {
        try (KafkaShareConsumer<byte[], byte[]> c = new KafkaShareConsumer<>(props(bootstrap, group))) {
            c.subscribe(List.of(topic));
            long until = System.currentTimeMillis() + 4_000;
            while (System.currentTimeMillis() < until) {
                c.poll(Duration.ofMillis(200));
            }
        }
        return null;
    }
}
