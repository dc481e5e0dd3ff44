// The demo's flows: the examples merged into one workspace that shares ONE Kafka broker
// config node and ONE X credentials node (each example, imported alone, brings its own),
// and, on later runs, the user's own flows re-pointed at the services of this run.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const examplesDir = path.join(root, 'examples');

/** Ids of the demo's shared config nodes: later runs find them by these ids to re-point them. */
const DEMO_BROKER_ID = 'demo0kafka0broker';
const DEMO_X_ID = 'demo0x0credentials';
/** The flagship example: its tab runs; the other examples are deployed as disabled tabs. */
const FLAGSHIP = 'x-stream-to-kafka.json';
/** Reads `tweets` back (it writes nothing): it runs beside the flagship. */
const READ_BACK = 'read-back-x-stream.json';
/** The examples whose tabs run in the demo. */
const RUNNING = [FLAGSHIP, READ_BACK];

function exampleFiles() {
  const files = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort();
  return [...RUNNING.filter((f) => files.includes(f)), ...files.filter((f) => !RUNNING.includes(f))];
}

/** Replaces every reference (a string property or array item) to an id in `map` by its new id. */
function remap(node, map) {
  for (const [k, v] of Object.entries(node)) {
    if (typeof v === 'string' && map.has(v) && k !== 'id') node[k] = map.get(v);
    else if (Array.isArray(v)) node[k] = v.map((x) => (typeof x === 'string' && map.has(x) ? map.get(x) : x));
  }
}

/**
 * The examples as the demo deploys them, with the broker and X addresses left blank
 * (see repoint). Returns { flows, tabs: [{label, enabled}] }.
 */
function buildDemoFlows() {
  const flows = [];
  const tabs = [];
  let broker;
  let account;
  for (const file of exampleFiles()) {
    const example = JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8'));
    const map = new Map();
    for (const n of example) {
      if (n.type === 'streamsafe-kafka-broker') {
        map.set(n.id, DEMO_BROKER_ID);
        broker ??= { ...n, id: DEMO_BROKER_ID, name: 'demo Kafka (npm start sets its address)' };
      } else if (n.type === 'streamsafe-x-credentials') {
        map.set(n.id, DEMO_X_ID);
        account ??= { ...n, id: DEMO_X_ID, name: 'X API emulator (npm start sets its address)', authType: 'bearer' };
      }
    }
    for (const n of example) {
      if (map.has(n.id)) continue;
      const node = { ...n };
      remap(node, map);
      if (node.type === 'tab') {
        const enabled = RUNNING.includes(file);
        if (!enabled) {
          node.disabled = true;
          node.info = `Deployed disabled by the demo (it would write into \`tweets\` beside the X posts): enable it in the tab's properties and Deploy to try it.\n\n${node.info || ''}`;
        }
        tabs.push({ label: node.label, enabled });
      }
      flows.push(node);
    }
  }
  if (broker) flows.push(broker);
  if (account) flows.push(account);
  return { flows, tabs };
}

/**
 * Points the demo's broker config node at `brokers` and its X credentials at the emulator
 * (`xUrl`, `bearerToken`, set in `credentials`). Returns which of the two it found.
 */
function repoint(flows, credentials, { brokers, xUrl, bearerToken }) {
  const found = { broker: false, x: false };
  for (const n of flows) {
    if (n.id === DEMO_BROKER_ID && n.type === 'streamsafe-kafka-broker') {
      n.brokers = brokers.join(',');
      found.broker = true;
    } else if (n.id === DEMO_X_ID && n.type === 'streamsafe-x-credentials') {
      n.baseUrl = xUrl;
      n.authType = 'bearer';
      credentials[n.id] = { ...credentials[n.id], bearerToken };
      found.x = true;
    }
  }
  return found;
}

/**
 * Flows written by the demo before it kept them (each example with its own broker node,
 * rewritten at every start, so no edit of the user's survived there): none of the demo's
 * ids, and the examples' own broker config nodes.
 */
function fromOlderDemo(flows) {
  if (flows.some((n) => n.id === DEMO_BROKER_ID || n.id === DEMO_X_ID)) return false;
  const exampleBrokers = new Set();
  for (const file of exampleFiles()) {
    for (const n of JSON.parse(fs.readFileSync(path.join(examplesDir, file), 'utf8'))) if (n.type === 'streamsafe-kafka-broker') exampleBrokers.add(n.id);
  }
  return flows.some((n) => n.type === 'streamsafe-kafka-broker' && exampleBrokers.has(n.id));
}

/** Node-RED's flow file: an array, or { flows: [...] } for the versioned format. */
function readFlowFile(file) {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (Array.isArray(data)) return { flows: data, wrap: (f) => f };
  if (data && Array.isArray(data.flows)) return { flows: data.flows, wrap: (f) => ({ ...data, flows: f }) };
  throw new Error('neither an array of nodes nor { flows: [...] }');
}

module.exports = { DEMO_BROKER_ID, DEMO_X_ID, FLAGSHIP, READ_BACK, RUNNING, buildDemoFlows, repoint, readFlowFile, fromOlderDemo };
