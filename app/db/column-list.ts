/**
 * A row type's columns as a select list (`id, owner_id, ...`), for a statement that should parse
 * only what its row type reads rather than `*`. The names must cover every key of `Row`: a column
 * added to the row type and not to the list fails to compile.
 *
 *   const CHARGE_COLUMNS = columnList<ChargeRow>()(['id', 'owner_id', ...]);
 */
export const columnList =
  <Row>() =>
  <const Names extends readonly (keyof Row & string)[]>(names: Names & (Exclude<keyof Row, Names[number]> extends never ? unknown : never)): string =>
    names.join(', ');

/**
 * A row a statement returned as one json column (`select row_to_json(r) as row from ...`). The hot
 * statements return their row that way: pg reads the description of every returned column and
 * makes a parser for each on every execution, which for the 20-odd columns of a charge cost more
 * than the JSON.parse of one value. Numbers and booleans keep their types; a timestamp is its ISO
 * text (`toDate` reads it); a bigint past 2^53 is no safe integer, so `toSafeInt` still refuses it.
 * pg parses json columns itself; PGlite may hand over the text.
 */
export const fromJsonColumn = <Row>(value: unknown): Row => (typeof value === 'string' ? JSON.parse(value) : value) as Row;

/**
 * A statement text (or a maker of texts) made once per shape (a number of columns, a CTE's text)
 * and the same value after that: a text built on each call is flattened and hashed again by every
 * lookup on its way (compiled texts, prepared statement names). Shapes come from the code, never
 * from a request, so the set stays small.
 */
export function textPerShape<Shape, Made = string>(make: (shape: Shape) => Made): (shape: Shape) => Made {
  const made = new Map<Shape, Made>();
  return (shape) => {
    let text = made.get(shape);
    if (text === undefined) made.set(shape, (text = make(shape)));
    return text;
  };
}
