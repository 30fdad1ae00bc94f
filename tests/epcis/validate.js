// Validates GS1 EPCIS 2.0 JSON-LD documents with the GS1 community SDK (epcis2.js): the JSON
// schemas of the document and of each event type, the event fields, and (checkExtensions) that
// every extension field's prefix is declared in the document's @context.
// Usage: node validate.js FILE...   Prints one JSON line per file; exit 1 if any is invalid.
const fs = require('fs');
const { setup, validateEpcisDocument } = require('epcis2.js');

setup({ checkExtensions: true });
let failed = 0;
for (const file of process.argv.slice(2)) {
  let result;
  try {
    result = validateEpcisDocument(JSON.parse(fs.readFileSync(file, 'utf8')), false);
  } catch (e) {
    result = { success: false, errors: [String(e)] };
  }
  if (!result.success) failed += 1;
  console.log(JSON.stringify({ file, success: result.success, errors: result.errors }));
}
process.exit(failed === 0 ? 0 : 1);
