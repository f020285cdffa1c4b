import { parse, type Node } from 'acorn';

/**
 * The lambda gate: a transformation function arrives as source text (from the registry, the
 * synthesizer or a model) and is accepted only when it is one JavaScript arrow function built
 * from an allow-listed grammar. The gate is the first layer; every accepted function still runs
 * only inside the sandbox (isolate with time and memory limits). Allow-lists, not block-lists:
 * a construct nobody thought of is refused by default.
 *
 * A function is called as `fn(value, row)`: `value` is the cell's text (or null), `row` the
 * row's text values by column name, frozen, and `lookup` (an evidence function's only) its lookup
 * table. It returns the new value, or an object of `{column: value}` when it writes several
 * columns (splitting a combined field).
 */
export type GateReason =
  | 'empty'
  | 'too-long'
  | 'python-lambda'
  | 'parse-error'
  | 'not-one-arrow-function'
  | 'async-or-generator'
  | 'bad-parameters'
  | 'forbidden-syntax'
  | 'forbidden-identifier'
  | 'forbidden-property'
  | 'forbidden-call'
  | 'too-complex';

export type GateVerdict = { accepted: true; source: string } | { accepted: false; reason: GateReason; detail: string };

export const MAX_FUNCTION_LENGTH = 2_000;
const MAX_NODES = 600;
const MAX_DEPTH = 48;
const MAX_REGEX_LENGTH = 200;

const ALLOWED_NODES = new Set([
  'ArrowFunctionExpression',
  'BlockStatement',
  'ReturnStatement',
  'IfStatement',
  'ExpressionStatement',
  'VariableDeclaration',
  'VariableDeclarator',
  'ArrayPattern',
  'Identifier',
  'Literal',
  'TemplateLiteral',
  'TemplateElement',
  'BinaryExpression',
  'LogicalExpression',
  'UnaryExpression',
  'ConditionalExpression',
  'CallExpression',
  'MemberExpression',
  'ChainExpression',
  'ArrayExpression',
  'ObjectExpression',
  'Property',
  'AssignmentExpression',
  'UpdateExpression',
  'NewExpression',
  'SequenceExpression',
  'EmptyStatement',
]);

/** Names a function may use without declaring them: pure, deterministic built-ins. */
const GLOBALS = new Set([
  'Math',
  'Number',
  'String',
  'Boolean',
  'parseInt',
  'parseFloat',
  'isNaN',
  'isFinite',
  'Date',
  'Array',
  'undefined',
  'NaN',
  'Infinity',
]);
const CALLABLE_GLOBALS = new Set(['Number', 'String', 'Boolean', 'parseInt', 'parseFloat', 'isNaN', 'isFinite']);

/** Methods a function may call: text, number, array, regular-expression and UTC date work. */
const CALLABLE_METHODS = new Set([
  // strings
  'trim',
  'trimStart',
  'trimEnd',
  'toLowerCase',
  'toUpperCase',
  'normalize',
  'replace',
  'replaceAll',
  'split',
  'slice',
  'substring',
  'substr',
  'padStart',
  'padEnd',
  'startsWith',
  'endsWith',
  'includes',
  'indexOf',
  'lastIndexOf',
  'match',
  'search',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'at',
  'concat',
  'repeat',
  'toString',
  'localeCompare',
  // arrays
  'map',
  'filter',
  'join',
  'every',
  'some',
  'find',
  'findIndex',
  'reduce',
  'reverse',
  'isArray',
  // regular expressions
  'test',
  'exec',
  // numbers and Math
  'toFixed',
  'toPrecision',
  'isInteger',
  'isSafeInteger',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'round',
  'floor',
  'ceil',
  'trunc',
  'abs',
  'min',
  'max',
  'pow',
  'sign',
  'log10',
  'sqrt',
  // dates, in UTC only (local-time methods depend on the machine's zone)
  'UTC',
  'parse',
  'toISOString',
  'getTime',
  'getUTCFullYear',
  'getUTCMonth',
  'getUTCDate',
  'getUTCDay',
  'getUTCHours',
  'getUTCMinutes',
  'getUTCSeconds',
]);

/** Property names that reach prototypes, constructors, or the clock and randomness. */
const FORBIDDEN_PROPERTIES = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'caller',
  'callee',
  'arguments',
  'call',
  'apply',
  'bind',
  'valueOf',
  'now',
  'random',
  'raw',
  'fromCharCode',
  'getPrototypeOf',
  'setPrototypeOf',
  'defineProperty',
  'assign',
  'freeze',
  'eval',
  'Function',
  'globalThis',
]);

/** Binding names refused even as local names, so no reader mistakes them for the real thing. */
const FORBIDDEN_BINDINGS = new Set([
  'eval',
  'arguments',
  'globalThis',
  'global',
  'self',
  'window',
  'process',
  'require',
  'module',
  'exports',
  'Function',
  'undefined',
  'NaN',
  'Infinity',
]);

const SAFE_UNARY = new Set(['-', '+', '!', '~', 'typeof']);
const NUMERIC_BINARY = new Set(['-', '*', '/', '%']);

class Refusal extends Error {
  constructor(
    readonly reason: GateReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type AnyNode = Node & Record<string, unknown>;

const isNode = (value: unknown): value is AnyNode =>
  typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';

function propertyName(member: AnyNode): string | undefined {
  const property = member.property as AnyNode;
  if (!member.computed && property.type === 'Identifier') return property.name as string;
  if (property.type === 'Literal' && typeof property.value === 'string') return property.value;
  return undefined;
}

/** Computed member access is allowed only with an index that cannot spell a property name. */
function checkIndex(index: AnyNode): void {
  if (index.type === 'Literal' && typeof index.value === 'number') return;
  if (index.type === 'Literal' && typeof index.value === 'string') {
    if (FORBIDDEN_PROPERTIES.has(index.value)) throw new Refusal('forbidden-property', `[${JSON.stringify(index.value)}]`);
    return;
  }
  if (index.type === 'UnaryExpression' && (index.operator === '-' || index.operator === '+')) return;
  if (index.type === 'BinaryExpression' && NUMERIC_BINARY.has(index.operator as string)) return;
  if (index.type === 'MemberExpression' && propertyName(index) === 'length') return;
  throw new Refusal('forbidden-syntax', 'computed member access with an index that is not a number');
}

/**
 * What a local name holds: an arrow function (callable), the row (the second parameter: frozen
 * text without a prototype, so any column name may be read as a string index), the lookup table
 * an evidence function gets as its third parameter (frozen strings without a prototype: any index
 * is safe, nothing callable), or any other value (not callable).
 */
type Binding = 'arrow' | 'table' | 'row' | 'value';

interface Walk {
  nodes: number;
  /** Lexical scopes, innermost last: a name is known only inside the block or function that binds it. */
  scopes: Map<string, Binding>[];
}

function lookup(walk: Walk, name: string): Binding | undefined {
  for (let i = walk.scopes.length - 1; i >= 0; i--) {
    const found = walk.scopes[i]!.get(name);
    if (found) return found;
  }
  return undefined;
}

function bind(walk: Walk, pattern: AnyNode, kind: Binding = 'value'): void {
  if (pattern.type === 'Identifier') {
    const name = pattern.name as string;
    if (FORBIDDEN_BINDINGS.has(name)) throw new Refusal('forbidden-identifier', name);
    walk.scopes.at(-1)!.set(name, kind);
    return;
  }
  if (pattern.type === 'ArrayPattern') {
    for (const element of pattern.elements as (AnyNode | null)[]) if (element) bind(walk, element);
    return;
  }
  throw new Refusal('bad-parameters', `${pattern.type} as a binding (plain names only)`);
}

function checkCall(walk: Walk, call: AnyNode): void {
  const callee = call.callee as AnyNode;
  if (callee.type === 'Identifier') {
    // Local names only when they hold an arrow function defined here; built-ins only from the allow-list.
    const name = callee.name as string;
    const local = lookup(walk, name);
    if (local === 'arrow') return;
    if (local === undefined && CALLABLE_GLOBALS.has(name)) return;
    throw new Refusal(
      'forbidden-call',
      `${name}() (only local arrow functions and ${[...CALLABLE_GLOBALS].join(', ')} may be called by name)`,
    );
  }
  if (callee.type === 'MemberExpression') {
    const name = propertyName(callee);
    if (name === undefined || !CALLABLE_METHODS.has(name)) throw new Refusal('forbidden-call', `.${name ?? '[computed]'}()`);
    return;
  }
  if (callee.type === 'ArrowFunctionExpression') throw new Refusal('forbidden-call', 'an immediately invoked function');
  throw new Refusal('forbidden-call', `calling a ${callee.type}`);
}

function visit(walk: Walk, node: AnyNode, depth: number): void {
  // A function body or a block opens a scope: its names are gone after it.
  const opens = node.type === 'ArrowFunctionExpression' || node.type === 'BlockStatement';
  if (opens) walk.scopes.push(new Map());
  try {
    visitNode(walk, node, depth);
  } finally {
    if (opens) walk.scopes.pop();
  }
}

function visitNode(walk: Walk, node: AnyNode, depth: number): void {
  if (++walk.nodes > MAX_NODES) throw new Refusal('too-complex', `more than ${MAX_NODES} syntax nodes`);
  if (depth > MAX_DEPTH) throw new Refusal('too-complex', `nested deeper than ${MAX_DEPTH}`);
  if (!ALLOWED_NODES.has(node.type)) throw new Refusal('forbidden-syntax', node.type);
  const skip = new Set<string>();
  let callee = false;
  switch (node.type) {
    case 'ArrowFunctionExpression':
      if (node.async || node.generator) throw new Refusal('async-or-generator', 'async or generator function');
      // Only the outermost function's second parameter is the row, and its third the lookup table.
      for (const [i, param] of (node.params as AnyNode[]).entries()) {
        const outer = walk.scopes.length === 1 && param.type === 'Identifier';
        bind(walk, param, outer && i === 1 ? 'row' : outer && i === 2 ? 'table' : 'value');
      }
      skip.add('params');
      break;
    case 'VariableDeclaration':
      if (node.kind !== 'const' && node.kind !== 'let') throw new Refusal('forbidden-syntax', `${node.kind as string} declaration`);
      break;
    case 'VariableDeclarator':
      if (!node.init) throw new Refusal('forbidden-syntax', 'a declaration without a value');
      bind(walk, node.id as AnyNode, (node.init as AnyNode).type === 'ArrowFunctionExpression' ? 'arrow' : 'value');
      skip.add('id');
      break;
    case 'Identifier': {
      // A reference: a name bound earlier in the text, or an allow-listed built-in.
      const name = node.name as string;
      if (lookup(walk, name) === undefined && !GLOBALS.has(name)) throw new Refusal('forbidden-identifier', name);
      break;
    }
    case 'Literal':
      if (node.regex) {
        const { pattern } = node.regex as { pattern: string };
        if (pattern.length > MAX_REGEX_LENGTH) throw new Refusal('too-complex', `a regular expression longer than ${MAX_REGEX_LENGTH}`);
      }
      if (typeof node.value === 'bigint') throw new Refusal('forbidden-syntax', 'BigInt literal');
      break;
    case 'UnaryExpression':
      if (!SAFE_UNARY.has(node.operator as string)) throw new Refusal('forbidden-syntax', `unary ${node.operator as string}`);
      break;
    case 'MemberExpression': {
      const name = propertyName(node);
      const object = node.object as AnyNode;
      const binding = object.type === 'Identifier' ? lookup(walk, object.name as string) : undefined;
      // The row has no prototype: a column named `raw` or `constructor` is read as `row["raw"]`, a plain string.
      const index = node.property as AnyNode;
      const columnOfRow = binding === 'row' && node.computed && index.type === 'Literal' && typeof index.value === 'string';
      if (name !== undefined && FORBIDDEN_PROPERTIES.has(name) && !columnOfRow) throw new Refusal('forbidden-property', name);
      const ofTable = binding === 'table';
      if (node.computed && !ofTable && !columnOfRow) checkIndex(node.property as AnyNode);
      else if (!node.computed) skip.add('property');
      break;
    }
    case 'CallExpression':
      callee = true;
      break;
    case 'NewExpression': {
      const callee = node.callee as AnyNode;
      if (callee.type !== 'Identifier' || callee.name !== 'Date') throw new Refusal('forbidden-call', 'new is allowed for Date only');
      if ((node.arguments as AnyNode[]).length === 0) throw new Refusal('forbidden-call', 'new Date() reads the clock');
      break;
    }
    case 'Property': {
      if (node.kind !== 'init' || node.method || node.computed)
        throw new Refusal('forbidden-syntax', 'getters, setters, methods and computed keys');
      const key = node.key as AnyNode;
      const name = key.type === 'Identifier' ? (key.name as string) : String(key.value);
      if (FORBIDDEN_PROPERTIES.has(name)) throw new Refusal('forbidden-property', name);
      // An object must not pass for a string or an array: no `length`, no method names as keys.
      if (name === 'length' || CALLABLE_METHODS.has(name)) throw new Refusal('forbidden-property', `${name} as an object key`);
      skip.add('key');
      break;
    }
    case 'AssignmentExpression':
    case 'UpdateExpression': {
      const target = (node.type === 'AssignmentExpression' ? node.left : node.argument) as AnyNode;
      if (target.type !== 'Identifier') throw new Refusal('forbidden-syntax', 'assignment to anything but a local name');
      const kind = lookup(walk, target.name as string);
      if (kind === 'table' || kind === 'row')
        throw new Refusal('forbidden-syntax', `assignment to the ${kind === 'row' ? 'row' : 'lookup table'}`);
      break;
    }
  }
  for (const [key, value] of Object.entries(node)) {
    if (skip.has(key)) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) visit(walk, item, depth + 1);
    } else if (isNode(value)) {
      visit(walk, value, depth + 1);
    }
  }
  // After the callee itself is checked, so a forbidden name is reported as such.
  if (callee) checkCall(walk, node);
}

/** Checks one function's source text; never runs it. */
export function gateFunction(source: string): GateVerdict {
  const text = source.trim();
  if (text === '') return { accepted: false, reason: 'empty', detail: 'no function' };
  if (text.length > MAX_FUNCTION_LENGTH)
    return { accepted: false, reason: 'too-long', detail: `${text.length} characters (at most ${MAX_FUNCTION_LENGTH})` };
  if (/^lambda\b[^:]*:/.test(text))
    return { accepted: false, reason: 'python-lambda', detail: 'a Python lambda; a JavaScript arrow function is required' };
  let program: AnyNode;
  try {
    program = parse(text, { ecmaVersion: 2024, sourceType: 'script', allowHashBang: false }) as unknown as AnyNode;
  } catch (error) {
    return { accepted: false, reason: 'parse-error', detail: (error as Error).message };
  }
  const body = program.body as AnyNode[];
  const statement = body[0];
  if (
    body.length !== 1 ||
    statement?.type !== 'ExpressionStatement' ||
    (statement.expression as AnyNode).type !== 'ArrowFunctionExpression'
  ) {
    return { accepted: false, reason: 'not-one-arrow-function', detail: 'the text must be exactly one arrow function' };
  }
  const arrow = statement.expression as AnyNode;
  if ((arrow.params as AnyNode[]).length < 1 || (arrow.params as AnyNode[]).length > 3) {
    return { accepted: false, reason: 'bad-parameters', detail: 'takes (value), (value, row) or (value, row, lookup)' };
  }
  const walk: Walk = { nodes: 0, scopes: [] };
  try {
    visit(walk, arrow, 0);
  } catch (error) {
    if (error instanceof Refusal) return { accepted: false, reason: error.reason, detail: error.detail };
    throw error;
  }
  return { accepted: true, source: text };
}
