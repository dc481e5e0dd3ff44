// Writes a fixed set of records with the Java producer (kafka-clients), one topic per
// compression codec, and reports every record as the broker acknowledged it, for
// test/nodes/kafka-consumer-java.test.ts: the consumer node must hand each one out with
// the exact bytes and metadata.
//
// Usage: java -cp <kafka classpath>:<classes> ConsumerRoundTripProducer <bootstrap> <codec>=<topic>...
//
// Per topic one producer with compression.type=<codec>, linger.ms and batch.size large
// enough that the records of a partition share a batch. The records (see records()):
// binary and text keys, a null key, an empty key and value, binary, UTF-8 (Korean, emoji),
// JSON and large (> 5 KB) values, a tombstone, text, binary, repeated, non-ASCII and
// null-valued headers, and explicit CreateTime timestamps, not in timestamp order.
//
// Output on stdout, one TAB-separated line per record, in send order:
//   R topic label partition offset timestamp key value headers
// from the RecordMetadata (partition, offset, timestamp) and the serialized bytes sent
// (key, value: lower-case hex, "-" for null; headers: comma-separated name=value, both
// hex, value "-" for null, "" without headers), then per topic:
//   T topic codec recordCount

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringSerializer;

public final class ConsumerRoundTripProducer {
    /** byte[] as it is, String through the StringSerializer (UTF-8), as a Java application would. */
    static final class BytesOrString implements Serializer<Object> {
        private final StringSerializer strings = new StringSerializer();

        @Override
        public byte[] serialize(String topic, Object data) {
            if (data == null) return null;
            if (data instanceof byte[]) return (byte[]) data;
            return strings.serialize(topic, (String) data);
        }
    }

    static final class Spec {
        final String label;
        final Object key;
        final Object value;
        final RecordHeaders headers = new RecordHeaders();
        long timestamp;

        Spec(String label, Object key, Object value) {
            this.label = label;
            this.key = key;
            this.value = value;
        }

        Spec header(String name, Object value) {
            headers.add(name, value == null ? null : value instanceof byte[] ? (byte[]) value : ((String) value).getBytes(StandardCharsets.UTF_8));
            return this;
        }
    }

    static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) out[i] = (byte) b[i];
        return out;
    }

    static List<Spec> records(String codec, long base) {
        List<Spec> r = new ArrayList<>();
        byte[] all = new byte[258];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        all[256] = (byte) 0xff;
        all[257] = 0x00;
        r.add(new Spec("binary", bytes(0x00, 0xff, 0x7f, 0x80, 0x0a), all));
        r.add(new Spec("text", "\uc0ac\uc6a9\uc790-1 \ud83d\ude42",
                "\uc548\ub155\ud558\uc138\uc694, \uce74\ud504\uce74! Korean text with emoji \ud83c\udf89\ud83d\ude80\ud83d\udc69\u200d\ud83d\udcbb codec=" + codec)
                .header("source", "java-producer")
                .header("bin", bytes(0x00, 0x01, 0xfe, 0xff))
                .header("trace", "first")
                .header("trace", "second")
                .header("\ucd9c\ucc98", "\uc790\ubc14 \ud83c\udf88"));
        r.add(new Spec("json", "user-2",
                "{\"id\":\"42\",\"text\":\"\ud55c\uad6d\uc5b4 \ud83c\udf89\",\"n\":[1,2.5,-3],\"nested\":{\"ok\":true,\"none\":null},\"codec\":\"" + codec + "\"}"));
        // > 5 KB and repetitive, so that the codec has something to do.
        byte[] large = new byte[12_000];
        for (int i = 0; i < large.length; i++) large[i] = (byte) (i % 97 == 0 ? 0xff : i % 89 == 0 ? 0x00 : 'a' + (i % 23));
        r.add(new Spec("large", bytes(0x01, 0x02), large));
        r.add(new Spec("no-key", null, "no key here").header("h", "v"));
        r.add(new Spec("tombstone", "user-1", null));
        r.add(new Spec("null-header", "user-3", "a header without a value")
                .header("present", "yes")
                .header("empty", new byte[0])
                .header("nothing", null));
        r.add(new Spec("empty", new byte[0], new byte[0]));
        for (int i = 0; i < 10; i++) r.add(new Spec("fill-" + i, "k-" + i, "filler " + i + " " + codec));
        // Explicit timestamps, whole seconds apart plus a few ms, not in send order (negative
        // deltas inside a batch).
        for (int i = 0; i < r.size(); i++) r.get(i).timestamp = base + ((i * 7L) % r.size()) * 1000 + i;
        return r;
    }

    static String hex(byte[] b) {
        if (b == null) return "-";
        StringBuilder s = new StringBuilder(b.length * 2);
        for (byte x : b) s.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        return s.toString();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: ConsumerRoundTripProducer <bootstrap> <codec>=<topic>...");
            System.exit(2);
        }
        // An hour ago, whole seconds: clearly not the broker's append time.
        long base = (System.currentTimeMillis() / 1000) * 1000 - 3_600_000L;
        BytesOrString serializer = new BytesOrString();
        StringBuilder out = new StringBuilder();
        for (int a = 1; a < args.length; a++) {
            int eq = args[a].indexOf('=');
            String codec = args[a].substring(0, eq);
            String topic = args[a].substring(eq + 1);
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
            props.put(ProducerConfig.CLIENT_ID_CONFIG, "consumer-round-trip-" + codec);
            props.put(ProducerConfig.ACKS_CONFIG, "all");
            props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            // Everything sent within linger.ms, and batch.size above the records of one partition.
            props.put(ProducerConfig.LINGER_MS_CONFIG, "500");
            props.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
            props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
            List<Spec> specs = records(codec, base);
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            try (KafkaProducer<Object, Object> producer = new KafkaProducer<>(props, serializer, serializer)) {
                producer.partitionsFor(topic); // metadata first: all sends then land within one linger
                for (Spec s : specs) sent.add(producer.send(new ProducerRecord<>(topic, null, s.timestamp, s.key, s.value, s.headers)));
                producer.flush();
                for (int i = 0; i < specs.size(); i++) {
                    Spec s = specs.get(i);
                    RecordMetadata md = sent.get(i).get();
                    StringBuilder h = new StringBuilder();
                    for (Header x : s.headers) {
                        if (h.length() > 0) h.append(',');
                        h.append(hex(x.key().getBytes(StandardCharsets.UTF_8))).append('=').append(hex(x.value()));
                    }
                    out.append(String.join("\t", "R", topic, s.label, Integer.toString(md.partition()), Long.toString(md.offset()),
                            Long.toString(md.timestamp()), hex(serializer.serialize(topic, s.key)), hex(serializer.serialize(topic, s.value)), h))
                            .append('\n');
                }
            }
            out.append(String.join("\t", "T", topic, codec, Integer.toString(specs.size()))).append('\n');
        }
        System.out.print(out);
        System.out.flush();
    }
}
