import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java side of the producer benchmark (bench/producer).
 *
 *   JavaBench pp <ProducerPerformance args...>
 *     runs kafka-tools' ProducerPerformance in this JVM and prints, on one line starting
 *     "BENCH-RESULT ", the JVM's CPU time and peak RSS over the run.
 *
 *   JavaBench keyed <bootstrap> <topic> <templatesFile> <records> <warmup> [prop=value...]
 *     the benchmark's own record set (keyed by user id, 1 KB tweet-like JSON, built from the
 *     same templates as bench/producer/records.ts), sent as fast as send() takes them, one
 *     callback per record as ProducerPerformance does; prints "BENCH-START", "BENCH-END" around
 *     the measured records and a JSON result line "BENCH-RESULT {...}".
 *
 * A watchdog halts the JVM when the process that started it is gone.
 */
public final class JavaBench {
  public static void main(String[] args) throws Exception {
    watchParent();
    if (args.length < 1) throw new IllegalArgumentException("usage: JavaBench pp|keyed ...");
    if (args[0].equals("pp")) pp(Arrays.copyOfRange(args, 1, args.length));
    else if (args[0].equals("keyed")) keyed(Arrays.copyOfRange(args, 1, args.length));
    else throw new IllegalArgumentException("unknown mode " + args[0]);
    System.out.flush();
    // ProducerPerformance may leave non-daemon threads behind; the result is out.
    Runtime.getRuntime().halt(0);
  }

  private static void pp(String[] args) throws Exception {
    long cpu0 = cpuNanos();
    long t0 = System.nanoTime();
    System.out.println("BENCH-START");
    System.out.flush();
    Class.forName("org.apache.kafka.tools.ProducerPerformance").getMethod("main", String[].class).invoke(null, (Object) args);
    long t1 = System.nanoTime();
    long cpu1 = cpuNanos();
    System.out.println("BENCH-END");
    System.out.println("BENCH-RESULT {\"cpuMs\":" + (cpu1 - cpu0) / 1_000_000 + ",\"wallMs\":" + (t1 - t0) / 1_000_000
        + ",\"peakRssKb\":" + peakRssKb() + "}");
  }

  private static void keyed(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    List<String> lines = Files.readAllLines(Paths.get(args[2]), StandardCharsets.UTF_8);
    int records = Integer.parseInt(args[3]);
    int warmup = Integer.parseInt(args[4]);
    Properties props = new Properties();
    for (int i = 5; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

    List<byte[]> keys = new ArrayList<>();
    List<byte[]> suffixes = new ArrayList<>();
    for (String line : lines) {
      if (line.isEmpty()) continue;
      int tab = line.indexOf('\t');
      keys.add(line.substring(0, tab).getBytes(StandardCharsets.UTF_8));
      suffixes.add(line.substring(tab + 1).getBytes(StandardCharsets.UTF_8));
    }
    byte[] prefix = "{\"seq\":\"".getBytes(StandardCharsets.UTF_8);
    int templates = keys.size();

    AtomicLong errors = new AtomicLong();
    AtomicLong acked = new AtomicLong();
    long[] latencyMicros = new long[Math.max(0, records - warmup)];
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < records; i++) {
        if (i == warmup) {
          producer.flush();
          System.out.println("BENCH-START");
          System.out.flush();
          measureFrom(System.nanoTime(), cpuNanos());
        }
        byte[] suffix = suffixes.get(i % templates);
        byte[] value = new byte[prefix.length + 9 + suffix.length];
        System.arraycopy(prefix, 0, value, 0, prefix.length);
        int n = i;
        for (int d = prefix.length + 8; d >= prefix.length; d--) {
          value[d] = (byte) ('0' + n % 10);
          n /= 10;
        }
        System.arraycopy(suffix, 0, value, prefix.length + 9, suffix.length);
        final long sent = System.nanoTime();
        final int slot = i - warmup;
        producer.send(new ProducerRecord<>(topic, keys.get(i % templates), value), (md, e) -> {
          if (e != null) errors.incrementAndGet();
          else acked.incrementAndGet();
          if (slot >= 0) latencyMicros[slot] = (System.nanoTime() - sent) / 1000;
        });
      }
      producer.flush();
      long t1 = System.nanoTime();
      long cpu1 = cpuNanos();
      System.out.println("BENCH-END");
      long measured = records - warmup;
      double secs = (t1 - startNanos) / 1e9;
      long[] sorted = latencyMicros.clone();
      Arrays.sort(sorted);
      StringBuilder sb = new StringBuilder("BENCH-RESULT {");
      sb.append("\"records\":").append(measured);
      sb.append(",\"acked\":").append(acked.get());
      sb.append(",\"errors\":").append(errors.get());
      sb.append(",\"elapsedMs\":").append(String.format("%.1f", secs * 1000));
      sb.append(",\"recordsPerSec\":").append(String.format("%.1f", measured / secs));
      sb.append(",\"p50Ms\":").append(String.format("%.3f", pct(sorted, 0.50) / 1000.0));
      sb.append(",\"p99Ms\":").append(String.format("%.3f", pct(sorted, 0.99) / 1000.0));
      sb.append(",\"maxMs\":").append(String.format("%.3f", (sorted.length > 0 ? sorted[sorted.length - 1] : 0) / 1000.0));
      sb.append(",\"cpuMs\":").append((cpu1 - startCpu) / 1_000_000);
      sb.append(",\"peakRssKb\":").append(peakRssKb());
      sb.append('}');
      System.out.println(sb);
    }
  }

  private static long startNanos;
  private static long startCpu;

  private static void measureFrom(long nanos, long cpu) {
    startNanos = nanos;
    startCpu = cpu;
  }

  private static long pct(long[] sorted, double q) {
    if (sorted.length == 0) return 0;
    int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[i];
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    } catch (Exception e) {
      // not Linux: unknown
    }
    return -1;
  }

  private static void watchParent() {
    String expected = System.getProperty("streamsafe.parent.pid");
    if (expected == null) return;
    long parent = Long.parseLong(expected);
    Thread t = new Thread(() -> {
      while (true) {
        long now = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
        if (now != parent) Runtime.getRuntime().halt(3);
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "bench-parent-watchdog");
    t.setDaemon(true);
    t.start();
  }
}
