// Kafka commit node: marks a msg from a kafka consumer node finished, so that its consumer
// (commit mode at least once) may commit its offset once every earlier msg of its partition
// is finished too. The msg goes on unchanged.
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { localStatus, msg as message, statusPublisher, type StatusMessage } from '../../lib/common/status-message';
import { boundedDelay } from '../../lib/common/timers';
import { finishConsumed, TOKEN_PROPERTY } from '../../lib/kafka/consumer/finish-registry';

const TYPE = 'streamsafe-kafka-commit';

export = function (RED: NodeAPI) {
  const t = (key: string, subs?: Record<string, string | number>) => RED._(`${TYPE}.${key}`, subs);

  function KafkaCommitNode(this: Node, config: NodeDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const setStatus = statusPublisher(node, RED.comms.publish);
    const counts = { finished: 0, gone: 0, late: 0, ignored: 0 };
    let shown = '';
    const refresh = () => {
      const key = JSON.stringify(counts);
      if (key === shown) return;
      shown = key;
      const parts: StatusMessage[] = [message('status.finished', { count: counts.finished })];
      if (counts.late) parts.push(message('status.late', { count: counts.late }));
      if (counts.gone) parts.push(message('status.gone', { count: counts.gone }));
      if (counts.ignored) parts.push(message('status.ignored', { count: counts.ignored }));
      setStatus(localStatus(counts.gone || counts.late ? 'yellow' : 'green', 'dot', parts, t));
    };
    const timer = setInterval(refresh, boundedDelay(1000));
    timer.unref?.();

    node.on('input', (msg: NodeMessageInFlow, send: (m: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      const answer = finishConsumed(msg, 'commitNode');
      if (answer === 'none') {
        const e = new Error(t('errors.noToken', { property: TOKEN_PROPERTY }));
        e.name = 'NotConsumedError';
        return done(e);
      }
      if (answer === 'ok' || answer === 'unknown') counts.finished++;
      else if (answer === 'late') counts.late++;
      else if (answer === 'gone') counts.gone++;
      else counts.ignored++;
      send(msg);
      done();
    });

    node.on('close', (done: () => void) => {
      clearInterval(timer);
      setStatus({});
      done();
    });
  }

  RED.nodes.registerType(TYPE, KafkaCommitNode as never);
};
