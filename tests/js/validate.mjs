// Validate a Circuit JSON file against tscircuit's own zod schemas (npm circuit-json).
//
// usage: node validate.mjs circuit.json [more.json ...]
// Prints a JSON report per file and exits 1 when any element of any file fails. Besides the schema parse, it reports what
// zod lets through silently: keys the schema does not know (zod strips them), duplicate element ids,
// and *_id / *_ids references that point at no element of the file.

import { readFileSync } from "node:fs";
import { any_circuit_element } from "circuit-json";

function unknownKeys(input, parsed, path, out) {
  if (Array.isArray(input) && Array.isArray(parsed)) {
    input.forEach((item, i) => unknownKeys(item, parsed[i], `${path}[${i}]`, out));
  } else if (isObject(input) && isObject(parsed)) {
    for (const key of Object.keys(input)) {
      if (!(key in parsed)) out.push(`${path}.${key}`);
      else unknownKeys(input[key], parsed[key], `${path}.${key}`, out);
    }
  }
}

// A union failure says only "Invalid input": report the issues of the members whose type/ftype matched,
// or null when no member did (the element's type/ftype is unknown there).
function explain(issues) {
  const out = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union_discriminator") return null;
    if (issue.code === "invalid_literal" && ["type", "ftype"].includes(issue.path.at(-1))) return null;
    if (issue.code === "invalid_union") {
      const members = issue.unionErrors.map((error) => explain(error.issues)).filter((found) => found !== null);
      if (!members.length) return null;
      out.push(...members.flat());
    } else out.push(`${issue.path.join(".")}: ${issue.message}`);
  }
  return [...new Set(out)];
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function ownIdKey(element) {
  return `${element.type}_id`;
}

function references(value, ownKey, path, out) {
  if (Array.isArray(value)) {
    value.forEach((item, i) => references(item, ownKey, `${path}[${i}]`, out));
  } else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key !== ownKey && key.endsWith("_id") && typeof item === "string") out.push([`${path}.${key}`, item]);
      else if (key.endsWith("_ids") && Array.isArray(item)) {
        item.flat().forEach((id, i) => out.push([`${path}.${key}[${i}]`, id]));
      } else references(item, ownKey, `${path}.${key}`, out);
    }
  }
}

function validate(elements) {
  const problems = [];
  const ids = new Set();
  elements.forEach((element, index) => {
    const where = `[${index}] ${element?.type ?? "?"}`;
    const result = any_circuit_element.safeParse(element);
    if (!result.success) {
      const issues = explain(result.error.issues) ?? [`no circuit-json schema for type ${element?.type}`];
      problems.push({ where, kind: "schema", issues });
      return;
    }
    const extra = [];
    unknownKeys(element, result.data, "", extra);
    if (extra.length) problems.push({ where, kind: "unknown_keys", issues: extra });
    const id = element[ownIdKey(element)];
    if (typeof id === "string") {
      if (ids.has(id)) problems.push({ where, kind: "duplicate_id", issues: [id] });
      ids.add(id);
    }
  });
  elements.forEach((element, index) => {
    if (!isObject(element)) return;
    const refs = [];
    references(element, ownIdKey(element), "", refs);
    const dangling = refs.filter(([, id]) => !ids.has(id)).map(([path, id]) => `${path} -> ${id}`);
    if (dangling.length) problems.push({ where: `[${index}] ${element.type}`, kind: "dangling_ref", issues: dangling });
  });
  return problems;
}

function validateFile(file) {
  let elements;
  try {
    elements = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return { file, ok: false, count: 0, problems: [{ where: file, kind: "read", issues: [String(error)] }] };
  }
  if (!Array.isArray(elements)) {
    return { file, ok: false, count: 0, problems: [{ where: file, kind: "read", issues: ["not a JSON array"] }] };
  }
  const problems = validate(elements);
  return { file, ok: problems.length === 0, count: elements.length, problems };
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error("usage: node validate.mjs <circuit.json> [more.json ...]");
  process.exit(2);
}
const reports = files.map(validateFile);
const ok = reports.every((report) => report.ok);
console.log(JSON.stringify({ ok, files: reports }, null, 2));
process.exit(ok ? 0 : 1);
