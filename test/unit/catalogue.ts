// The real message catalogues (locales/<lang>/<node type>.json) as a translate function, the way
// Node-RED's i18next reads them (__name__ placeholders): statuses and reasons built as messages are
// rendered with these in the tests, so a key missing from a catalogue, or a placeholder it lacks,
// fails there. Not a test file itself.
import fs from 'node:fs';
import path from 'node:path';
import type { StatusTranslate } from '../../src/lib/common/status-message';

const localesDir = path.resolve(__dirname, '..', '..', 'locales');

type Messages = { [key: string]: string | Messages };

/** t(key, values) for the section `type` of locales/<lang>/<type>.json; throws on a key or value it does not have. */
export function catalogue(lang: string, type: string): StatusTranslate {
  const file = path.join(localesDir, lang, `${type}.json`);
  const section = (JSON.parse(fs.readFileSync(file, 'utf8')) as Messages)[type] as Messages;
  return (key, values = {}) => {
    let node: string | Messages | undefined = section;
    for (const part of key.split('.')) node = typeof node === 'object' ? node[part] : undefined;
    if (typeof node !== 'string') throw new Error(`${lang}/${type}.json has no message ${key}`);
    return node.replace(/__(\w+?)__/g, (_m, name: string) => {
      if (!(name in values)) throw new Error(`${lang}/${type}.json ${key}: no value for __${name}__`);
      return String(values[name]);
    });
  };
}
