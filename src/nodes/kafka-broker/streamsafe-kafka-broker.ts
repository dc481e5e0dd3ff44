// Kafka broker config node: one kafkajs client per config node, shared by the
// nodes that use it (register/deregister as the core MQTT broker node does).
// Also the editor's admin routes: test the settings as typed in the dialog, and
// list the cluster's topics for the producer's topic field.
import type { Node, NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { Kafka } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { BrokerSettingsError, STORED_PASSWORD, typedOrStored, type BrokerFields, type BrokerProblem } from '../../lib/kafka/broker-settings';
import { brokerSettingsFrom, connectionSettings, kafkaConfig, type BrokerSettings } from '../../lib/kafka/client-config';
import { ClusterProbeError, listTopics, probeCluster } from '../../lib/kafka/cluster-probe';
import { TopicMetadataCache } from '../../lib/kafka/topic-metadata';
import type { Credentials, KafkaBrokerDef, KafkaBrokerNode, TlsConfigNode } from './broker-node';

const TYPE = 'streamsafe-kafka-broker';

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`${TYPE}.${key}`, subs);

  /** A settings problem in the runtime's language (a field key shown as its label). */
  const problemText = (p: BrokerProblem) => {
    const values: Record<string, string | number> = { ...p.values };
    if (typeof values.field === 'string') values.label = t(`label.${values.field}`);
    return t(`validate.${p.code}`, values);
  };

  /** The TLS options of a deployed tls-config node, or undefined when there is none of that id. */
  const tlsOptions = (id: string): ConnectionOptions | undefined => {
    const tlsNode = RED.nodes.getNode(id) as TlsConfigNode | null;
    if (!tlsNode || typeof tlsNode.addTLSOptions !== 'function') return undefined;
    const opts: ConnectionOptions = {};
    tlsNode.addTLSOptions(opts);
    return opts;
  };

  function KafkaBrokerConfigNode(this: KafkaBrokerNode, config: KafkaBrokerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const users = new Map<string, Node>();
    let client: Kafka | undefined;
    let topicMetadata: TopicMetadataCache | undefined;

    let settings: BrokerSettings | undefined;
    try {
      const creds = node.credentials || {};
      settings = brokerSettingsFrom({ ...config, username: creds.username, password: creds.password }, { defaultClientId: `node-red-${node.id}`, tlsOptions });
    } catch (e) {
      node.settingsError = e instanceof BrokerSettingsError ? e.problems.map(problemText).join('; ') : (e as Error).message;
      node.error(t('errors.invalid', { reason: node.settingsError }));
    }
    node.settings = () => settings;

    const logSink = {
      error: (m: string) => node.error(m),
      warn: (m: string) => node.warn(m),
      info: (m: string) => node.log(m),
      debug: (m: string) => node.debug(m),
    };
    const usable = (): BrokerSettings => {
      if (!settings) throw new Error(t('errors.invalid', { reason: node.settingsError ?? '?' }));
      return settings;
    };
    node.kafka = () => {
      client ??= new Kafka(kafkaConfig(usable(), logSink));
      return client;
    };

    node.connectionSettings = () => connectionSettings(usable(), logSink);

    node.topicMetadata = () => {
      const kafka = node.kafka();
      topicMetadata ??= new TopicMetadataCache(() => kafka.admin());
      return topicMetadata;
    };

    node.register = (user) => {
      users.set(user.id, user);
    };
    node.deregister = (user, done) => {
      users.delete(user.id);
      done();
    };

    node.on('close', (done: () => void) => {
      // Each user closes its own producer; the shared client holds no socket itself.
      users.clear();
      client = undefined;
      const closing = topicMetadata;
      topicMetadata = undefined;
      if (closing) closing.close().then(() => done(), () => done());
      else done();
    });
  }

  RED.nodes.registerType(TYPE, KafkaBrokerConfigNode as never, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
    },
  });

  /**
   * The settings an admin request carries: the dialog's fields as typed; `id` is the
   * broker node's id, whose stored credentials stand in for a password shown as the
   * editor's placeholder (or for a username/password not sent at all). Without
   * `brokers`, a deployed broker node's own settings. Throws BrokerSettingsError.
   */
  function requestSettings(body: unknown): BrokerSettings {
    const b = (body && typeof body === 'object' ? body : {}) as BrokerFields & { id?: unknown };
    const id = typeof b.id === 'string' && b.id ? b.id : undefined;
    if (b.brokers === undefined && id) {
      const deployed = RED.nodes.getNode(id) as KafkaBrokerNode | null;
      if (deployed && deployed.type === TYPE) {
        const s = deployed.settings();
        if (!s) throw new Error(t('errors.invalid', { reason: deployed.settingsError ?? '?' }));
        return s;
      }
    }
    // Stored credentials of a deployed broker node only: never another node's secrets.
    const owner = id ? (RED.nodes.getNode(id) as Node | null) : null;
    const stored = ((owner && owner.type === TYPE ? RED.nodes.getCredentials(id!) : undefined) ?? {}) as Credentials;
    const fields: BrokerFields = {
      ...b,
      username: typedOrStored(b.username, stored.username),
      password: typedOrStored(b.password, stored.password, STORED_PASSWORD),
    };
    return brokerSettingsFrom(fields, { defaultClientId: `node-red-${id ?? 'test'}`, tlsOptions });
  }

  /**
   * Answers an admin request, never throwing: 400 when the settings are unusable, 200 with
   * the result or with the probe's failure, 500 for anything else (a bug: its message only).
   */
  function answer(req: Request, res: Response, run: (s: BrokerSettings) => Promise<Record<string, unknown>>): void {
    let settings: BrokerSettings;
    try {
      settings = requestSettings(req.body);
    } catch (err) {
      const problems = err instanceof BrokerSettingsError ? err.problems : [];
      res.status(400).json({
        ok: false,
        error: {
          kind: 'invalid',
          reason: problems.length ? problems.map(problemText).join('; ') : ((err as Error)?.message ?? String(err)),
          problems: problems.map(({ code, fields, values }) => ({ code, fields, values })),
        },
      });
      return;
    }
    run(settings).then(
      (result) => res.json({ ok: true, ...result }),
      (err: unknown) => {
        if (err instanceof ClusterProbeError) res.json({ ok: false, error: err.failure });
        else res.status(500).json({ ok: false, error: { kind: 'other', reason: (err as Error)?.message ?? String(err), error: (err as Error)?.name ?? 'Error' } });
      },
    );
  }

  const canWrite = RED.auth.needsPermission(`${TYPE}.write`);

  // The dialog's "test connection" button.
  RED.httpAdmin.post(`/${TYPE}/test`, canWrite, (req: Request, res: Response) => {
    answer(req, res, async (s) => ({ ...(await probeCluster(s)) }));
  });

  // The cluster's topics (internal ones left out), for the producer's topic field.
  RED.httpAdmin.post(`/${TYPE}/topics`, canWrite, (req: Request, res: Response) => {
    answer(req, res, async (s) => ({ topics: await listTopics(s) }));
  });
};
