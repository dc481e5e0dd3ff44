// The producer dialog's rules, from the runtime's own (src/lib/kafka/producer/config.ts):
// presets, defaults, and why the value of one field is refused given all the others. The
// editor (streamsafe-kafka-producer.html) reads window.streamsafeEditor.producer and holds
// no copy of a preset, a default or a rule. Runs in the browser (bundled into the .html).
import {
  defaultProducerOptions,
  JAVA_NAMES,
  PRESETS,
  producerProblems,
  type PresetName,
  type ProducerField,
  type ProducerOptions,
  type ProducerProblem,
} from '../kafka/producer/config';
import { COMPRESSION_NAMES } from '../kafka/codecs/names';
import { MAX_TOPIC_LENGTH, topicNameProblem } from '../kafka/record';
import { htmlSafe } from './html';
import { browserDialog, currentValues, translator, type DialogEnv, type EditorNode } from './node-dialog';

/** A field's value as the dialog holds it: text, or a checkbox's state. */
export type EditorValue = string | boolean;
/** The dialog's values by field name (missing or blank: the default). */
export type EditorValues = Readonly<Record<string, unknown>>;
/** Translates a problem code with its values (the .html: node._('streamsafe-kafka-producer.validate.' + code, values)). */
export type Translate = (code: string, values: Readonly<Record<string, string | number>>) => string;

/** Every option field, in the order of the Java names. */
export const OPTION_FIELDS = Object.keys(JAVA_NAMES) as ReadonlyArray<keyof ProducerOptions>;

/** The other fields of the dialog that have a rule: the topic and the metrics interval. */
export const OTHER_FIELDS = ['topic', 'metricsInterval'] as const;

export const COMPRESSIONS = COMPRESSION_NAMES;

function editorForm(v: unknown): EditorValue {
  return typeof v === 'boolean' ? v : String(v);
}

/** The dialog's default for each option field (the Safe preset over the Java defaults). */
export const DEFAULTS: Readonly<Record<keyof ProducerOptions, EditorValue>> = Object.freeze(
  Object.fromEntries(Object.entries(defaultProducerOptions()).map(([f, v]) => [f, editorForm(v)])) as Record<keyof ProducerOptions, EditorValue>,
);

export type Preset = Exclude<PresetName, 'custom'>;

/** Each preset's fields in the dialog's form. */
export const PRESET_VALUES: Readonly<Record<Preset, Readonly<Partial<Record<keyof ProducerOptions, EditorValue>>>>> = Object.freeze(
  Object.fromEntries(
    Object.entries(PRESETS).map(([name, p]) => [name, Object.freeze(Object.fromEntries(Object.entries(p).map(([f, v]) => [f, editorForm(v)])))]),
  ) as Record<Preset, Partial<Record<keyof ProducerOptions, EditorValue>>>,
);

/** The fields a preset sets (every preset sets the same ones). */
export const PRESET_FIELDS: ReadonlyArray<keyof ProducerOptions> = OPTION_FIELDS.filter((f) =>
  Object.values(PRESETS).some((p) => Object.prototype.hasOwnProperty.call(p, f)),
);

function same(a: unknown, b: EditorValue): boolean {
  if (typeof b === 'boolean') return (a === true || a === 'true') === b;
  return String(a ?? '').trim() === b;
}

/** The value the runtime uses for a field: a blank or missing one is the default. */
function effective(values: EditorValues, f: keyof ProducerOptions): unknown {
  const v = values[f];
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '') ? DEFAULTS[f] : v;
}

/** The preset whose fields all hold the dialog's values (blank: the default, as at run time), or 'custom'. */
export function matchingPreset(values: EditorValues): PresetName {
  for (const [name, p] of Object.entries(PRESET_VALUES) as Array<[Preset, Partial<Record<keyof ProducerOptions, EditorValue>>]>) {
    if (PRESET_FIELDS.every((f) => same(effective(values, f), p[f]!))) return name;
  }
  return 'custom';
}

/** A problem of a field outside ProducerOptions, in the same form as the producer's. */
interface FieldProblem {
  code: string;
  values: Readonly<Record<string, string | number>>;
  message: string;
}

const WHOLE = /^\s*\d+\s*$/;

function otherFieldProblem(field: (typeof OTHER_FIELDS)[number], value: unknown): FieldProblem | undefined {
  const text = value === undefined || value === null ? '' : String(value).trim();
  if (field === 'topic') {
    // Blank: each msg's msg.topic.
    if (text === '' || topicNameProblem(text) === undefined) return undefined;
    return { code: 'topicName', values: { max: MAX_TOPIC_LENGTH }, message: topicNameProblem(text)! };
  }
  if (text === '' || WHOLE.test(text)) return undefined;
  return { code: 'metricsInterval', values: { value: text }, message: `The metrics interval must be a whole number of seconds (0: off), got "${text}"` };
}

/** Every problem of the dialog's values, by the field(s) each concerns. */
export function problemsByField(values: EditorValues): Partial<Record<ProducerField | (typeof OTHER_FIELDS)[number], Array<ProducerProblem | FieldProblem>>> {
  const out: Partial<Record<string, Array<ProducerProblem | FieldProblem>>> = {};
  for (const p of producerProblems(values as Record<string, unknown>)) {
    for (const f of p.fields) (out[f] ??= []).push(p);
  }
  for (const f of OTHER_FIELDS) {
    const p = otherFieldProblem(f, values[f]);
    if (p) (out[f] ??= []).push(p);
  }
  return out;
}

/**
 * Why the value of `field` is refused, given all the dialog's values (the field's own
 * among them), or undefined when it is fine: translated with `translate` when given (the
 * values it gets are HTML-escaped: the editor shows reasons as HTML), else the runtime's
 * English message. Several problems are joined with "; ".
 */
export function fieldProblem(field: string, values: EditorValues, translate?: Translate): string | undefined {
  const problems = problemsByField(values)[field as ProducerField];
  if (!problems || !problems.length) return undefined;
  return problems.map((p) => (translate ? translate(p.code, htmlSafe(p.values)) : p.message)).join('; ');
}

/** Every field of the dialog that a rule reads. */
export const FIELDS: readonly string[] = ['preset', ...OTHER_FIELDS, ...OPTION_FIELDS];

/**
 * The Node-RED validator of `field` (validate: function (v) { return validateProducer(this, field, v); }):
 * true, or the reason in the editor's language, reading the other fields from the open dialog.
 */
export function validateProducer(node: EditorNode, field: string, value: unknown, env: DialogEnv = browserDialog()): true | string {
  const values = { ...currentValues(node, FIELDS, 'node-input', env), [field]: value };
  const t = translator(node, 'streamsafe-kafka-producer');
  return fieldProblem(field, values, (code, v) => t(`validate.${code}`, v)) ?? true;
}
