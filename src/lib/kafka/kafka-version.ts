// Which Kafka a broker runs, inferred from its ApiVersions answer: Kafka does not report
// its version on the wire, but each release raises the newest version of some requests.
// The table holds, per release line, the newest version of four requests every broker
// listener serves (from the `validVersions` of the message specs in kafka-clients 3.9.1,
// 4.0.0, 4.1.0, 4.2.0 and 4.3.1; the 4.3.1 broker of our tests advertises exactly these):
//
//                       3.9   4.0   4.1   4.2   4.3
//   Fetch (1)            17    17    18    18    18
//   ListOffsets (2)       9    10    10    11    11
//   Metadata (3)         12    13    13    13    13
//   DescribeLogDirs (35)  4     4     4     4     5
//
// Not used: minimum versions (4.x removed old versions but still advertises Produce from
// v0, a workaround for librdkafka, as the 4.3.1 broker does) and Produce's newest version
// (11/12/13 over these lines, but its newer versions belong to the transaction protocol
// a cluster may not have enabled).
//
// What is inferred: the newest release line whose versions the broker has for all four
// ("4.3 or later": a later release that kept these versions looks the same), and the
// major line (4.x). A broker below the 4.0 row is "before 4.0"; a fork of Kafka
// (Redpanda, ...) answers with its own versions and is named after what they match.

export interface ApiVersionRange {
  minVersion: number;
  maxVersion: number;
}

/** The requests the inference reads, by API key. */
export const SIGNAL_APIS: ReadonlyArray<{ key: number; name: string }> = [
  { key: 1, name: 'Fetch' },
  { key: 2, name: 'ListOffsets' },
  { key: 3, name: 'Metadata' },
  { key: 35, name: 'DescribeLogDirs' },
];

/** Newest version of each signal API per release line, oldest line first. */
export const RELEASE_API_VERSIONS: ReadonlyArray<{ release: string; max: Readonly<Record<number, number>> }> = [
  { release: '3.9', max: { 1: 17, 2: 9, 3: 12, 35: 4 } },
  { release: '4.0', max: { 1: 17, 2: 10, 3: 13, 35: 4 } },
  { release: '4.1', max: { 1: 18, 2: 10, 3: 13, 35: 4 } },
  { release: '4.2', max: { 1: 18, 2: 11, 3: 13, 35: 4 } },
  { release: '4.3', max: { 1: 18, 2: 11, 3: 13, 35: 5 } },
];

export interface KafkaVersionGuess {
  /** Always true: Kafka does not say its version; this is read from ApiVersions. */
  inferred: true;
  /** The major line: "4.x", or "3.x or earlier" below the 4.0 row. */
  line: string;
  /** The newest release line whose versions the broker has for every signal API ("4.3"); undefined below 4.0. */
  atLeast?: string;
  /** The broker's versions equal that line's for every signal API (false: some are newer). */
  exact: boolean;
  /** The newest version the broker takes of each signal API, by name (-1: not offered). */
  apiVersions: Record<string, number>;
  /** e.g. "Kafka 4.x (4.3 or later; ApiVersions: Fetch v18, ListOffsets v11, Metadata v13, DescribeLogDirs v5)" */
  text: string;
}

/** Infers the release line from a broker's ApiVersions (API key → version range). */
export function inferKafkaVersion(versions: Readonly<Record<number, ApiVersionRange | undefined>>): KafkaVersionGuess {
  const max = (key: number) => versions[key]?.maxVersion ?? -1;
  const apiVersions: Record<string, number> = {};
  for (const api of SIGNAL_APIS) apiVersions[api.name] = max(api.key);
  let match: (typeof RELEASE_API_VERSIONS)[number] | undefined;
  for (const row of RELEASE_API_VERSIONS) {
    if (SIGNAL_APIS.every((api) => max(api.key) >= row.max[api.key])) match = row;
  }
  const evidence = `ApiVersions: ${SIGNAL_APIS.map((api) => `${api.name} v${apiVersions[api.name] < 0 ? '-' : apiVersions[api.name]}`).join(', ')}`;
  if (!match || match.release.startsWith('3.')) {
    // 3.9 is in the table only as the row below 4.0: earlier 3.x lines are not told apart.
    return { inferred: true, line: '3.x or earlier', exact: false, apiVersions, text: `Kafka before 4.0 (${evidence})` };
  }
  const exact = SIGNAL_APIS.every((api) => max(api.key) === match!.max[api.key]);
  const line = `${match.release.split('.')[0]}.x`;
  return { inferred: true, line, atLeast: match.release, exact, apiVersions, text: `Kafka ${line} (${match.release} or later; ${evidence})` };
}
