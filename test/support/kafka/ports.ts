// Free TCP ports on 127.0.0.1, picked by letting the kernel choose and releasing them.
// Another process can grab one before the broker binds it; startKafka retries on that.
import * as net from 'node:net';

/** One free port (the demo, Node-RED and the tests' own listeners use it too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
