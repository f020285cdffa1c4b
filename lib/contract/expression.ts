/**
 * Contract expressions are small SQL predicates written by operators ("amount >= 0 AND
 * status <> 'void'"). They are compiled into the engine's SQL, so they are tokenised and
 * allow-listed first: only the contract's columns, literals, comparison and arithmetic
 * operators and a few pure functions. No subqueries, no statements, no comments.
 */
const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'is',
  'null',
  'true',
  'false',
  'in',
  'between',
  'like',
  'case',
  'when',
  'then',
  'else',
  'end',
  'as',
  // type names, for CAST(x AS type)
  'date',
  'timestamp',
  'timestamptz',
  'bigint',
  'integer',
  'double',
  'varchar',
  'boolean',
  'decimal',
]);
const FUNCTIONS = new Set([
  'cast',
  'length',
  'lower',
  'upper',
  'trim',
  'abs',
  'round',
  'coalesce',
  'year',
  'month',
  'day',
  'strlen',
  'starts_with',
  'ends_with',
  'contains',
]);
const TOKEN = /\s+|'(?:[^']|'')*'|"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|<>|<=|>=|!=|\|\||[=<>+\-*/%(),]/y;

/** The problem with `expression`, or undefined when it is allowed. */
export function checkExpression(expression: string, columns: string[]): string | undefined {
  const known = new Set(columns.map((c) => c.toLowerCase()));
  // Outside string literals, `--` and `/*` would comment out the SQL the expression is placed in.
  const bare = expression.replace(/'(?:[^']|'')*'/g, "''");
  if (/--|\/\*|\*\/|;/.test(bare)) return 'comments and statement separators are not allowed';
  TOKEN.lastIndex = 0;
  let depth = 0;
  const tokens: string[] = [];
  while (TOKEN.lastIndex < expression.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expression);
    if (!match || match.index !== at) return `unexpected character at ${at}: ${JSON.stringify(expression.slice(at, at + 10))}`;
    const token = match[0];
    if (/^\s+$/.test(token)) continue;
    tokens.push(token);
  }
  for (const [i, token] of tokens.entries()) {
    if (token === '(') depth++;
    if (token === ')' && --depth < 0) return 'unbalanced parentheses';
    if (token.startsWith('"')) {
      const name = token.slice(1, -1).replace(/""/g, '"').toLowerCase();
      if (!known.has(name)) return `unknown column ${token}`;
    } else if (/^[A-Za-z_]/.test(token)) {
      const word = token.toLowerCase();
      const isCall = tokens[i + 1] === '(';
      if (isCall ? !FUNCTIONS.has(word) : !KEYWORDS.has(word) && !known.has(word)) {
        return isCall ? `function not allowed: ${token}` : `unknown name: ${token}`;
      }
    }
  }
  if (depth !== 0) return 'unbalanced parentheses';
  return undefined;
}
