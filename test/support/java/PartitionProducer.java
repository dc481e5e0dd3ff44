// Produces one record per key with the Java Kafka producer (kafka-clients, default
// partitioner) and reports the partition each record landed on, as the broker
// acknowledged it. test/integration/partition-java-producer.test.ts writes the keys,
// produces the same keys through Node-RED (partition key node + kafka producer
// node) and compares the partitions.
//
// Usage: java -cp <kafka classpath>:<classes> PartitionProducer <bootstrap> <keys> <out> <valuePrefix> <topic>...
//
// Keys file, big-endian, repeated until EOF (the format of Murmur2Check):
//   byte kind    0 = raw bytes (sent as is), 1 = string as UTF-16 code units
//                (sent through StringSerializer, i.e. as UTF-8, as a Java producer
//                with key.serializer=StringSerializer would)
//   int  length  byte count (kind 0) or UTF-16 unit count (kind 1)
//   ...          the bytes, or the units as 2-byte chars
// Each record's value is "<valuePrefix>:<topic>:<key index>" (UTF-8).
//
// Output, big-endian: int topicCount, then per topic in argument order:
//   int partitionCount (producer.partitionsFor), int keyCount,
//   keyCount ints: the partition of each key's record, from its RecordMetadata.

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class PartitionProducer {
    /** byte[] keys as they are, String keys through the StringSerializer. */
    static final class KeySerializer implements Serializer<Object> {
        private final StringSerializer strings = new StringSerializer();

        @Override
        public byte[] serialize(String topic, Object data) {
            if (data == null) return null;
            if (data instanceof byte[]) return (byte[]) data;
            return strings.serialize(topic, (String) data);
        }
    }

    static List<Object> readKeys(String file) throws IOException {
        List<Object> keys = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(file), 1 << 16))) {
            while (true) {
                int kind;
                try {
                    kind = in.readUnsignedByte();
                } catch (EOFException e) {
                    break;
                }
                int length = in.readInt();
                if (kind == 0) {
                    byte[] b = new byte[length];
                    in.readFully(b);
                    keys.add(b);
                } else if (kind == 1) {
                    char[] c = new char[length];
                    for (int i = 0; i < length; i++) c[i] = in.readChar();
                    keys.add(new String(c));
                } else {
                    throw new IOException("unknown key kind " + kind);
                }
            }
        }
        return keys;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: PartitionProducer <bootstrap> <keys> <out> <valuePrefix> <topic>...");
            System.exit(2);
        }
        List<Object> keys = readKeys(args[1]);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, "partition-producer-check");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        // The topics must exist (the test creates them with their partition counts).
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        long started = System.nanoTime();
        try (KafkaProducer<Object, String> producer = new KafkaProducer<>(props, new KeySerializer(), new StringSerializer());
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[2]), 1 << 16))) {
            out.writeInt(args.length - 4);
            for (int t = 4; t < args.length; t++) {
                String topic = args[t];
                int partitions = producer.partitionsFor(topic).size();
                List<Future<RecordMetadata>> sent = new ArrayList<>(keys.size());
                for (int i = 0; i < keys.size(); i++) {
                    sent.add(producer.send(new ProducerRecord<>(topic, keys.get(i), args[3] + ":" + topic + ":" + i)));
                }
                producer.flush();
                out.writeInt(partitions);
                out.writeInt(keys.size());
                for (Future<RecordMetadata> f : sent) out.writeInt(f.get().partition());
            }
        }
        System.err.printf("PartitionProducer: %d keys x %d topics in %d ms%n", keys.size(), args.length - 4, (System.nanoTime() - started) / 1_000_000);
    }
}
