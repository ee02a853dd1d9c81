// Generates src/client/protocol.ts from src/client/protocol.schema.json, which `make protocol` writes from the
// server's pydantic models. `--check` fails (exit 1) when the committed file is not what it would generate.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";

const schemaPath = fileURLToPath(new URL("../src/client/protocol.schema.json", import.meta.url));
const outputPath = fileURLToPath(new URL("../src/client/protocol.ts", import.meta.url));

const schema = JSON.parse(await readFile(schemaPath, "utf8"));
const limits = schema["x-limits"];
const root = { ...schema, title: "ProtocolDefinitions" };
delete root["x-limits"];

const banner = `/* Generated from the server's pydantic models (layers/shared/python/chat/protocol.py) by
 * \`make protocol\`: do not edit. A test fails when this file is stale. */`;
let types = await compile(root, "ProtocolDefinitions", {
  bannerComment: banner,
  additionalProperties: false,
  unreachableDefinitions: true,
  strictIndexSignatures: true,
  format: true,
  style: { printWidth: 120 },
});
// The root has no properties of its own: only its definitions are the protocol.
types = types
  .replace(/\nexport interface ProtocolDefinitions \{[^}]*\}\n/, "")
  .replace(/ \*\n \* This interface was referenced by `ProtocolDefinitions`'s JSON-Schema\n \* via the `definition` "\w+"\.\n/g, "");
const output = `${types}
/** The limits a client checks before it sends, and the page sizes. */
export const LIMITS = ${JSON.stringify(limits, null, 2)} as const;
`;

if (process.argv.includes("--check")) {
  const committed = await readFile(outputPath, "utf8").catch(() => "");
  if (committed !== output) {
    console.error("src/client/protocol.ts is stale: run `make protocol` (or `npm run protocol` in web/).");
    process.exit(1);
  }
  console.log("src/client/protocol.ts matches the protocol schema.");
} else {
  await writeFile(outputPath, output);
  console.log(`wrote ${outputPath}`);
}
