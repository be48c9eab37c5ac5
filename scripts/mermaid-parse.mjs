// Parses Mermaid files with Mermaid itself (its flowchart grammar), in Node with a jsdom window:
// `node parse.mjs FILE...` prints `ok FILE` or `FAIL FILE: error` per file and exits 1 on any
// failure. scripts/tools.sh copies it next to its pinned mermaid and jsdom in target/tools/mermaid.
import { JSDOM } from 'jsdom';
import fs from 'node:fs';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

let failed = 0;
for (const file of process.argv.slice(2)) {
  try {
    const parsed = await mermaid.parse(fs.readFileSync(file, 'utf8'));
    console.log(`ok ${file} ${parsed.diagramType}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${file}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
