import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Runs another main class (kafka.Kafka, a Kafka tool, ...) in this JVM, and halts the
 * JVM as soon as the process that started it is gone. Node cannot make a child die with
 * its parent (no PR_SET_PDEATHSIG), so without this a SIGKILLed or crashed test process
 * would leave brokers running and holding ports.
 *
 * System properties:
 *   streamsafe.parent.pid  pid of the starting process; halt when we are no longer its child
 *   streamsafe.cleanup     optional directory to delete (best effort) before halting
 */
public final class StreamsafeLauncher {
  public static void main(String[] args) throws Throwable {
    if (args.length < 1) {
      System.err.println("usage: StreamsafeLauncher <mainClass> [args...]");
      System.exit(2);
    }
    String expected = System.getProperty("streamsafe.parent.pid");
    if (expected != null) {
      long parent = Long.parseLong(expected);
      if (currentParent() != parent) orphaned();
      Thread watchdog = new Thread(() -> {
        while (true) {
          // Re-parenting (to init or a subreaper) changes our ppid: the starter is gone.
          if (currentParent() != parent) orphaned();
          try {
            Thread.sleep(250);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "streamsafe-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    String[] rest = new String[args.length - 1];
    System.arraycopy(args, 1, rest, 0, rest.length);
    try {
      Class.forName(args[0]).getMethod("main", String[].class).invoke(null, (Object) rest);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static long currentParent() {
    return ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
  }

  private static void orphaned() {
    String dir = System.getProperty("streamsafe.cleanup");
    if (dir != null && !dir.isEmpty()) deleteTree(Paths.get(dir));
    // halt, not exit: shutdown hooks (controlled shutdown) could wait for peers that died too.
    Runtime.getRuntime().halt(137);
  }

  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<Path>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
          try { Files.deleteIfExists(file); } catch (IOException ignored) { }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) {
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException exc) {
          try { Files.deleteIfExists(d); } catch (IOException ignored) { }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException | RuntimeException ignored) {
      // best effort: the temp dir may already be gone or be removed by a sibling broker
    }
  }
}
