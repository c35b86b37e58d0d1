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
