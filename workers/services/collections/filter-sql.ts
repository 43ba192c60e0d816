import type { FilterCondition, FilterValue } from "../../../src/api/collections.ts";

/**
 * A parsed metadata filter as a SQL condition on `metadata` (jsonb), with its parameters numbered from `first`.
 * Keys and values always go as parameters, never into the text. Equality is containment (`metadata @> {k: v}`), which
 * the GIN jsonb_path_ops index answers; `$ne`/`$nin` match items without the key too (as MongoDB's do); range
 * operators match numbers only (a string never compares with a number).
 *
 * `json` wraps a jsonb parameter for the driver (postgres.js: `sql.json`).
 *
 * @example filterSql([{ key: "colour", op: "$eq", value: "red" }], 5) → { sql: "metadata @> $5::jsonb", params: [{ colour: "red" }] }
 */
export function filterSql(
  conditions: readonly FilterCondition[],
  first: number,
  json: (value: unknown) => unknown = (value) => value,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    params.push(cast === "jsonb" ? json(value) : value);
    return `$${first + params.length - 1}::${cast}`;
  };
  const clauses = conditions.map(({ key, op, value }) => {
    switch (op) {
      case "$eq":
        return `metadata @> ${param({ [key]: value }, "jsonb")}`;
      case "$ne":
        return `NOT (metadata @> ${param({ [key]: value }, "jsonb")})`;
      case "$in":
        return inList(key, value as FilterValue[], param);
      case "$nin":
        return `NOT ${inList(key, value as FilterValue[], param)}`;
      default: {
        const operator = { $lt: "<", $lte: "<=", $gt: ">", $gte: ">=" }[op];
        const k = param(key, "text");
        return `(CASE WHEN jsonb_typeof(metadata -> ${k}) = 'number' THEN (metadata -> ${k})::numeric ${operator} ${param(value, "numeric")} ELSE false END)`;
      }
    }
  });
  return { sql: clauses.length ? clauses.join(" AND ") : "true", params };
}

// Membership as containment of any one value, so each alternative can use the GIN index; never NULL.
function inList(
  key: string,
  values: readonly FilterValue[],
  param: (value: unknown, cast: string) => string,
): string {
  return `(metadata @> ANY (ARRAY(SELECT jsonb_build_object(${param(key, "text")}, v) FROM jsonb_array_elements(${param(values, "jsonb")}) AS v)))`;
}
