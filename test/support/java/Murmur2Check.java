// Prints what the Java Kafka client computes for each key of an input file:
// Utils.murmur2, Utils.toPositive and BuiltInPartitioner.partitionForKey for
// 1..maxPartitions partitions. test/integration/murmur2-java.test.ts writes the
// keys, runs this and compares every value with the TypeScript implementation.
//
// Usage: java -cp <kafka classpath>:<classes> Murmur2Check <in> <out> [maxPartitions]
//
// Input, big-endian, repeated until EOF:
//   byte kind    0 = raw bytes, 1 = string as UTF-16 code units
//   int  length  byte count (kind 0) or UTF-16 unit count (kind 1)
//   ...          the bytes, or the units as 2-byte chars
// A string key is turned into bytes by StringSerializer, as a Java producer with
// key.serializer=StringSerializer would (UTF-8).
//
// Output, big-endian: int keyCount, int maxPartitions, then for each key:
//   int murmur2, int toPositive, int keyByteLength,
//   maxPartitions bytes: partitionForKey(key, n) for n = 1..maxPartitions
// (so maxPartitions must be <= 128 for a partition to fit a byte).

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;

public final class Murmur2Check {
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: Murmur2Check <in> <out> [maxPartitions]");
            System.exit(2);
        }
        int maxPartitions = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        if (maxPartitions < 1 || maxPartitions > 128) throw new IllegalArgumentException("maxPartitions must be 1..128");
        StringSerializer strings = new StringSerializer();
        long started = System.nanoTime();
        int count = 0;
        byte[] parts = new byte[maxPartitions];
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream(args[0]), 1 << 16));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new FileOutputStream(args[1]), 1 << 16))) {
            out.writeInt(0); // key count, patched below
            out.writeInt(maxPartitions);
            while (true) {
                int kind;
                try {
                    kind = in.readByte();
                } catch (EOFException end) {
                    break;
                }
                int length = in.readInt();
                byte[] key;
                if (kind == 0) {
                    key = new byte[length];
                    in.readFully(key);
                } else if (kind == 1) {
                    char[] units = new char[length];
                    for (int i = 0; i < length; i++) units[i] = in.readChar();
                    key = strings.serialize("t", new String(units));
                } else {
                    throw new IOException("bad key kind " + kind + " at key " + count);
                }
                int hash = Utils.murmur2(key);
                out.writeInt(hash);
                out.writeInt(Utils.toPositive(hash));
                out.writeInt(key.length);
                for (int n = 1; n <= maxPartitions; n++) parts[n - 1] = (byte) BuiltInPartitioner.partitionForKey(key, n);
                out.write(parts);
                count++;
            }
        }
        try (RandomAccessFile patch = new RandomAccessFile(args[1], "rw")) {
            patch.writeInt(count);
        }
        System.err.printf("Murmur2Check: %d keys, %d partition counts each, %d ms%n",
            count, maxPartitions, (System.nanoTime() - started) / 1_000_000);
    }
}
