// Drives `wasmdbg dap` with Microsoft's DebugClient (@vscode/debugadapter-testsupport).
//
//     node driver.js            (PYTHON names the interpreter; default python3)
//
// Each scenario starts a fresh adapter, runs against tests/dap/programs/points.O0.wasm
// and stops it.  Prints "ok NAME" or "FAIL NAME: why" per scenario; exits 1 if any failed.
// NB: DebugClient emits events without buffering them, so every wait is set up
// before the request that triggers the event.
'use strict';

const assert = require('assert');
const path = require('path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const PYTHON = process.env.PYTHON || 'python3';
const ADAPTER = path.join(__dirname, 'adapter.py');
const PROGRAMS = path.join(__dirname, '..', 'programs');
const POINTS = path.join(PROGRAMS, 'points.O0.wasm');
const TIMEOUT = 30000;

function client() {
  const dc = new DebugClient(PYTHON, ADAPTER, 'wasmdbg', { env: process.env });
  dc.defaultTimeout = TIMEOUT;
  return dc;
}

async function launch(dc, args, extra) {
  const initialized = dc.waitForEvent('initialized');
  await dc.launch(Object.assign({ program: POINTS, args }, extra || {}));
  await initialized;
}

async function topFrame(dc) {
  const trace = await dc.stackTraceRequest({ threadId: 1 });
  return trace.body.stackFrames[0];
}

async function scope(dc, name, frameId) {
  const scopes = await dc.scopesRequest({ frameId: frameId || 1 });
  const found = scopes.body.scopes.find((s) => s.name === name);
  assert.ok(found, `no scope ${name}`);
  const vars = await dc.variablesRequest({ variablesReference: found.variablesReference });
  return vars.body.variables;
}

async function local(dc, name) {
  const vars = await scope(dc, 'Wasm locals');
  const v = vars.find((x) => x.name === name);
  assert.ok(v, `no local ${name}`);
  return v.value;
}

async function resume(dc, request, args) {
  const stopped = dc.waitForEvent('stopped');
  await dc[request](Object.assign({ threadId: 1 }, args || {}));
  return stopped;
}

async function runToEnd(dc) {
  const exited = dc.waitForEvent('exited');
  const terminated = dc.waitForEvent('terminated');
  await dc.continueRequest({ threadId: 1 });
  const e = await exited;
  await terminated;
  return e.body.exitCode;
}

async function disassemble(dc, ref, count) {
  const r = await dc.disassembleRequest({ memoryReference: ref, instructionOffset: 0, instructionCount: count });
  return r.body.instructions;
}

const SOURCE = path.join(PROGRAMS, 'points.c');
const LINES = require('fs').readFileSync(SOURCE, 'utf8').split('\n');
function lineOf(text) {
  const k = LINES.findIndex((l) => l.includes(text));
  assert.ok(k >= 0, `no line with ${text}`);
  return k + 1;
}

const scenarios = {
  async 'line breakpoint hit with the right line (DebugClient.hitBreakpoint)'(dc) {
    const line = lineOf('int r = v * v;');
    await dc.hitBreakpoint({ program: POINTS, args: ['sum'] }, { path: SOURCE, line }, { path: SOURCE, line });
    const trace = await dc.stackTraceRequest({ threadId: 1 });
    assert.deepStrictEqual(trace.body.stackFrames.slice(0, 3).map((f) => f.name), ['square', 'sum_points', 'main']);
    const args = await scope(dc, 'Arguments');
    assert.deepStrictEqual(args.map((v) => [v.name, v.value]), [['v', '1']]);
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'variables of a struct'(dc) {
    const line = lineOf('int total = sum_points(pts, 3);');
    await dc.hitBreakpoint({ program: POINTS, args: ['sum'] }, { path: SOURCE, line });
    const pts = (await scope(dc, 'Locals')).find((v) => v.name === 'pts');
    assert.ok(pts && pts.variablesReference > 0, 'pts is not expandable');
    const elems = (await dc.variablesRequest({ variablesReference: pts.variablesReference })).body.variables;
    assert.deepStrictEqual(elems.map((e) => e.value), ['{x = 1, y = 2}', '{x = 3, y = 4}', '{x = 5, y = 6}']);
    const members = (await dc.variablesRequest({ variablesReference: elems[2].variablesReference })).body.variables;
    assert.deepStrictEqual(members.map((m) => [m.name, m.value, m.type]), [['x', '5', 'int'], ['y', '6', 'int']]);
    const hover = await dc.evaluateRequest({ expression: 'pts[2].x + pts[0].y', frameId: 1, context: 'hover' });
    assert.strictEqual(hover.body.result, '7');
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'step over and into by line'(dc) {
    const loop = lineOf('total += square(pts[i].x) + pts[i].y;');
    await dc.hitBreakpoint({ program: POINTS, args: ['sum'] }, { path: SOURCE, line: loop });
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    await resume(dc, 'nextRequest');
    assert.strictEqual((await topFrame(dc)).line, lineOf('counter++;'));
    await resume(dc, 'stepInRequest');  // back to the loop header
    await resume(dc, 'stepInRequest');
    let top = await topFrame(dc);
    if (top.name !== 'square') {
      await resume(dc, 'stepInRequest');
      top = await topFrame(dc);
    }
    assert.strictEqual(top.name, 'square');
    assert.strictEqual(top.line, lineOf('int r = v * v;'));
    await resume(dc, 'stepOutRequest');
    top = await topFrame(dc);
    assert.strictEqual(top.name, 'sum_points');
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'launch, output and exit code'(dc) {
    await launch(dc, ['exit']);
    const exited = dc.waitForEvent('exited');
    await dc.configurationDoneRequest();
    assert.strictEqual((await exited).body.exitCode, 7);
    const dc2 = dc; // same adapter: requests after the end are errors, the adapter lives
    await assert.rejects(dc2.stackTraceRequest({ threadId: 1 }));
  },

  async 'guest stdout becomes output events'(dc) {
    await launch(dc, ['sum']);
    const out = dc.assertOutput('stdout', 'total 47\n', TIMEOUT);
    const exited = dc.waitForEvent('exited');
    await dc.configurationDoneRequest();
    await out;
    assert.strictEqual((await exited).body.exitCode, 0);
  },

  async 'stop on entry'(dc) {
    await launch(dc, ['sum'], { stopOnEntry: true });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.strictEqual((await stopped).body.reason, 'entry');
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'function breakpoint: stack and locals'(dc) {
    await launch(dc, ['sum']);
    const bps = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square' }] });
    assert.ok(bps.body.breakpoints[0].verified);
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const ev = await stopped;
    assert.strictEqual(ev.body.reason, 'function breakpoint');
    assert.deepStrictEqual(ev.body.hitBreakpointIds, [bps.body.breakpoints[0].id]);
    const trace = await dc.stackTraceRequest({ threadId: 1 });
    const names = trace.body.stackFrames.map((f) => f.name.split(' @ ')[0]);
    assert.deepStrictEqual(names.slice(0, 3), ['square', 'sum_points', 'main']);
    assert.strictEqual(trace.body.stackFrames[0].instructionPointerReference,
      bps.body.breakpoints[0].instructionReference);
    assert.strictEqual(await local(dc, '$local0'), '1');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'conditional breakpoint'(dc) {
    await launch(dc, ['sum']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square', condition: 'v == 5' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    assert.strictEqual(await local(dc, '$local0'), '5');
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'hit-count breakpoint'(dc) {
    await launch(dc, ['sum']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square', hitCondition: '>=2' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    assert.strictEqual(await local(dc, '$local0'), '3');
    await resume(dc, 'continueRequest');
    assert.strictEqual(await local(dc, '$local0'), '5');
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'logpoint output'(dc) {
    await launch(dc, ['sum']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square', logMessage: 'v={v}' }] });
    const out = dc.assertOutput('console', 'v=1\nv=3\nv=5\n', TIMEOUT);
    const exited = dc.waitForEvent('exited');
    let stops = 0;
    dc.on('stopped', () => { stops += 1; });
    await dc.configurationDoneRequest();
    await out;
    assert.strictEqual((await exited).body.exitCode, 0);
    assert.strictEqual(stops, 0);
  },

  async 'instruction breakpoint'(dc) {
    await launch(dc, ['sum']);
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'square' }] });
    const listing = await disassemble(dc, fb.body.breakpoints[0].instructionReference, 40);
    const mul = listing.find((i) => i.instruction === 'i32.mul');
    assert.ok(mul, 'no i32.mul in square');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    const ib = await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: mul.address }] });
    assert.ok(ib.body.breakpoints[0].verified);
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    assert.strictEqual((await stopped).body.reason, 'instruction breakpoint');
    assert.strictEqual((await topFrame(dc)).instructionPointerReference, mul.address);
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'step over and into'(dc) {
    await launch(dc, ['sum']);
    const fb = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'sum_points' }] });
    const listing = await disassemble(dc, fb.body.breakpoints[0].instructionReference, 200);
    const k = listing.findIndex((i) => i.symbol === 'sum_points' && i.instruction.startsWith('call '));
    assert.ok(k >= 0, 'no call in sum_points');
    await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [{ instructionReference: listing[k].address }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    await resume(dc, 'nextRequest', { granularity: 'instruction' });
    let top = await topFrame(dc);
    assert.ok(top.name.startsWith('sum_points'), top.name);
    assert.strictEqual(top.instructionPointerReference, listing[k + 1].address);
    await resume(dc, 'continueRequest');
    await resume(dc, 'stepInRequest', { granularity: 'instruction' });
    top = await topFrame(dc);
    assert.ok(top.name.startsWith('square'), top.name);
    assert.strictEqual(await local(dc, '$local0'), '3');
    await resume(dc, 'stepOutRequest', { granularity: 'instruction' });
    assert.ok((await topFrame(dc)).name.startsWith('sum_points'));
    await dc.customRequest('setInstructionBreakpoints', { breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'trap as an exception stop'(dc) {
    await launch(dc, ['trap']);
    await dc.setExceptionBreakpointsRequest({ filters: ['traps'] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    const ev = await stopped;
    assert.strictEqual(ev.body.reason, 'exception');
    assert.match(ev.body.description, /divide by zero/);
    const info = await dc.exceptionInfoRequest({ threadId: 1 });
    assert.strictEqual(info.body.exceptionId, 'trap');
    assert.strictEqual(await runToEnd(dc), 134);
  },

  async 'memory read and write'(dc) {
    await launch(dc, ['show']);
    await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'show' }] });
    const stopped = dc.waitForEvent('stopped');
    await dc.configurationDoneRequest();
    await stopped;
    const address = '0x' + Number(await local(dc, '$local0')).toString(16);
    const read = await dc.customRequest('readMemory', { memoryReference: address, count: 12 });
    assert.strictEqual(Buffer.from(read.body.data, 'base64').toString(), 'hello, world');
    const wrote = await dc.customRequest('writeMemory', { memoryReference: address, data: Buffer.from('HELLO').toString('base64') });
    assert.strictEqual(wrote.body.bytesWritten, 5);
    const out = dc.assertOutput('stdout', 'message: HELLO, world\n', TIMEOUT);
    assert.strictEqual(await runToEnd(dc), 0);
    await out;
  },

  async 'pause a running loop'(dc) {
    await launch(dc, ['spin']);
    await dc.configurationDoneRequest();
    await new Promise((r) => setTimeout(r, 300));
    const stopped = dc.waitForEvent('stopped');
    await dc.pauseRequest({ threadId: 1 });
    assert.strictEqual((await stopped).body.reason, 'pause');
    assert.ok((await topFrame(dc)).name.startsWith('main'));
    const exited = dc.waitForEvent('exited');
    await dc.terminateRequest();
    assert.strictEqual((await exited).body.exitCode, 137);
  },

  async 'gdb commands and C expressions in the debug console'(dc) {
    const line = lineOf('int r = v * v;');
    await dc.hitBreakpoint({ program: POINTS, args: ['sum'] }, { path: SOURCE, line });
    const ptype = await dc.evaluateRequest({ expression: '-exec ptype struct point', frameId: 1, context: 'repl' });
    assert.match(ptype.body.result, /struct point \{/);
    const watch = await dc.evaluateRequest({ expression: 'v * v + counter', frameId: 1, context: 'watch' });
    assert.strictEqual(watch.body.result, '1');
    await assert.rejects(dc.evaluateRequest({ expression: '-exec next', frameId: 1, context: 'repl' }), /debug console/);
    await dc.setBreakpointsRequest({ source: { path: SOURCE }, breakpoints: [] });
    assert.strictEqual(await runToEnd(dc), 0);
  },

  async 'bad input gets error responses'(dc) {
    await assert.rejects(dc.stackTraceRequest({ threadId: 1 }), /before initialize/);
    await assert.rejects(dc.configurationDoneRequest(), /before initialize/);
    // malformed JSON straight into the adapter's stdin: an error response (request_seq 0)
    dc._adapterProcess.stdin.write('Content-Length: 5\r\n\r\n{oops');
    await assert.rejects(dc.customRequest('frobnicate', {}), /unknown request/);
    await assert.rejects(dc.launchRequest({ program: '/nonexistent.wasm' }), /before initialize/);
    await assert.rejects(dc.configurationDoneRequest(), /before initialize/);
    await launch(dc, ['sum']);
    await assert.rejects(dc.launchRequest({ program: POINTS }), /already/);
    await assert.rejects(dc.continueRequest({ threadId: 1 }), /not paused/);
    const exited = dc.waitForEvent('exited');
    await dc.configurationDoneRequest();
    assert.strictEqual((await exited).body.exitCode, 0);
    const threads = await dc.threadsRequest();
    assert.strictEqual(threads.body.threads.length, 1);
  },
};

async function main() {
  const only = process.argv[2];
  let failed = 0;
  for (const [name, run] of Object.entries(scenarios)) {
    if (only && !name.includes(only)) continue;
    const dc = client();
    try {
      await dc.start();
      await run(dc);
      console.log(`ok ${name}`);
    } catch (err) {
      failed += 1;
      console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
    } finally {
      await dc.stop();
    }
  }
  console.log(failed ? `${failed} failed` : 'all passed');
  process.exit(failed ? 1 : 0);
}

main();
