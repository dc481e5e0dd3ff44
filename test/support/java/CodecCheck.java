// Cross-checks our JavaScript codecs against the Java client's own
// compression classes (kafka-clients' org.apache.kafka.common.compress.*,
// which wrap lz4-java, snappy-java, zstd-jni and java.util.zip exactly as the
// producer, the broker and the consumer do for a v2 record batch).
//
// Usage: java -cp <kafka classpath>:<dir> CodecCheck <jobs-file>
//
// Each line of the jobs file is one job, fields separated by a TAB:
//
//   compress    <codec> <in> <out>
//       Java compresses the bytes of <in> and writes the frame to <out>.
//   decompress  <codec> <in> <out> [<expected>]
//       Java decompresses the frame in <in>, writes the bytes to <out> and,
//       when <expected> is given, compares them with that file.
//
// <codec> is gzip, snappy, lz4 or zstd. One result line per job goes to
// stdout, TAB-separated:  OK|FAIL|MISMATCH <job#> <op> <codec> <detail>.
// A failing job does not stop the others; the exit status is 0 unless the
// jobs file itself cannot be read.
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.utils.BufferSupplier;
import org.apache.kafka.common.utils.ByteBufferOutputStream;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;

public final class CodecCheck {
    /** RecordBatch.MAGIC_VALUE_V2: the only format a 4.x client writes. */
    private static final byte MAGIC_V2 = 2;

    private CodecCheck() {
    }

    static Compression codec(String name) {
        switch (name) {
            case "gzip":
                return Compression.gzip().build();
            case "snappy":
                return Compression.snappy().build();
            case "lz4":
                return Compression.lz4().build();
            case "zstd":
                return Compression.zstd().build();
            default:
                throw new IllegalArgumentException("unknown codec " + name);
        }
    }

    static byte[] compress(Compression compression, byte[] data) throws Exception {
        ByteBufferOutputStream sink = new ByteBufferOutputStream(Math.max(64, data.length / 2));
        try (OutputStream out = compression.wrapForOutput(sink, MAGIC_V2)) {
            out.write(data);
        }
        ByteBuffer buffer = sink.buffer();
        buffer.flip();
        byte[] result = new byte[buffer.remaining()];
        buffer.get(result);
        return result;
    }

    static byte[] decompress(Compression compression, byte[] frame) throws Exception {
        try (BufferSupplier supplier = BufferSupplier.create();
             InputStream in = compression.wrapForInput(ByteBuffer.wrap(frame), MAGIC_V2, supplier)) {
            return in.readAllBytes();
        }
    }

    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) sb.append(" <- ");
            sb.append(t.getClass().getName()).append(": ").append(t.getMessage());
            if (t.getCause() == t) break;
        }
        return sb.toString().replace('\t', ' ').replace('\n', ' ');
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: CodecCheck <jobs-file>");
            System.exit(2);
        }
        // Which lz4 implementation Kafka picked matters: the JNI one is
        // liblz4's LZ4_decompress_safe, stricter than the pure Java port.
        System.out.println("INFO\t0\tlz4\t-\t" + net.jpountz.lz4.LZ4Factory.fastestInstance());
        List<String> lines = Files.readAllLines(Paths.get(args[0]));
        int n = 0;
        for (String line : lines) {
            if (line.isEmpty()) continue;
            n++;
            String[] f = line.split("\t");
            String op = f[0];
            String name = f.length > 1 ? f[1] : "?";
            String prefix = "\t" + n + "\t" + op + "\t" + name + "\t";
            try {
                Compression compression = codec(name);
                byte[] in = Files.readAllBytes(Paths.get(f[2]));
                Path out = Paths.get(f[3]);
                if (op.equals("compress")) {
                    byte[] frame = compress(compression, in);
                    Files.write(out, frame);
                    System.out.println("OK" + prefix + in.length + " -> " + frame.length);
                } else if (op.equals("decompress")) {
                    byte[] data = decompress(compression, in);
                    Files.write(out, data);
                    if (f.length > 4) {
                        byte[] expected = Files.readAllBytes(Paths.get(f[4]));
                        if (!Arrays.equals(expected, data)) {
                            int at = Arrays.mismatch(expected, data);
                            System.out.println("MISMATCH" + prefix + "got " + data.length + " bytes, expected "
                                + expected.length + ", first difference at " + at);
                            continue;
                        }
                    }
                    System.out.println("OK" + prefix + in.length + " -> " + data.length);
                } else {
                    throw new IllegalArgumentException("unknown op " + op);
                }
            } catch (Throwable e) {
                System.out.println("FAIL" + prefix + describe(e));
            }
        }
        System.out.flush();
    }
}
