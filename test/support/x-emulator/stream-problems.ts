// Bodies the stream side of the emulator sends that problems.ts does not have: the in-stream
// operational-disconnect error for every documented disconnect_type, the partial errors of a
// stream record, and the HTML pages a proxy in front of X might answer with.
//
// Problem type URIs are built on the same base as problems.ts's PROBLEM_TYPES, so both files
// follow one choice of host (api.twitter.com or api.x.com).
import { STATUS_CODES } from 'node:http';
import type { DisconnectType } from './faults';
import { PROBLEM_TYPES, type Problem } from './problems';

/** `https://api.<host>/2/problems/<name>`, on the host problems.ts uses. */
export function problemType(name: string): string {
  return PROBLEM_TYPES.invalidRequest.replace(/invalid-request$/, name);
}

/**
 * The `detail` of each disconnect type. X documents the wording of two of them (the
 * OperationalDisconnect one as X has sent it for years, the UpstreamOperationalDisconnect one in
 * its "Handling disconnections" page); the others are the emulator's own words: X's docs and
 * spec name them without a message.
 */
const DISCONNECT_DETAILS: Record<DisconnectType, string> = {
  OperationalDisconnect: 'This stream has been disconnected for operational reasons.',
  UpstreamOperationalDisconnect: 'This stream has been disconnected upstream for operational reasons.',
  ForceDisconnect: 'This stream has been force-disconnected (emulator wording).',
  UpstreamUncleanDisconnect: 'This stream has been disconnected upstream without a clean shutdown (emulator wording).',
  SlowReader: 'This stream has been disconnected because the client did not read fast enough (emulator wording).',
  InternalError: 'This stream has been disconnected because of an internal error (emulator wording).',
  ClientApplicationStateDegraded: 'This stream has been disconnected because the client application state is degraded (emulator wording).',
  InvalidRules: 'This stream has been disconnected because the rules of this app are invalid (emulator wording).',
};

/** The in-stream error written before X closes a stream for `disconnectType`. */
export function disconnectProblem(disconnectType: DisconnectType = 'OperationalDisconnect', detail?: string): { errors: Problem[] } {
  return {
    errors: [
      {
        title: 'operational-disconnect',
        disconnect_type: disconnectType,
        detail: detail ?? DISCONNECT_DETAILS[disconnectType],
        type: PROBLEM_TYPES.operationalDisconnect,
      },
    ],
  };
}

/**
 * A partial error of a stream record: an expanded post that cannot be included, because it was
 * deleted (ResourceNotFoundProblem in X's spec: resource_type, resource_id, parameter, value) or
 * belongs to a protected account (NotAuthorizedForResourceProblem, which adds `section`).
 */
export function referencedPostProblem(id: string, why: 'deleted' | 'protected', parameter = 'referenced_tweets.id'): Problem {
  if (why === 'deleted') {
    return {
      value: id,
      detail: `Could not find tweet with ${parameter}: [${id}].`,
      title: 'Not Found Error',
      resource_type: 'tweet',
      parameter,
      resource_id: id,
      type: problemType('resource-not-found'),
    };
  }
  return {
    value: id,
    detail: `Sorry, you are not authorized to see the Tweet with ${parameter}: [${id}].`,
    title: 'Authorization Error',
    resource_type: 'tweet',
    parameter,
    resource_id: id,
    section: 'includes',
    type: problemType('not-authorized-for-resource'),
  };
}

/** A page like the ones load balancers and captive portals answer with (not X's JSON). */
export function proxyHtml(status: number): string {
  const text = status === 200 ? 'Please sign in to continue' : `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return (
    '<!DOCTYPE html>\n<html>\n<head><title>' +
    text +
    '</title></head>\n<body>\n<center><h1>' +
    text +
    '</h1></center>\n<hr><center>proxy</center>\n</body>\n</html>\n'
  );
}
