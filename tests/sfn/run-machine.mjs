// Runs a state machine emitted by `cwexport sfn` with aws-local-stepfunctions.
// aws-local-stepfunctions does not implement `aws-sdk:` resources: every Task
// gets a local handler that makes the real AWS SDK for JavaScript v3 call
// against AWS_ENDPOINT_URL (the fake AWS), with the parameter and error
// names Step Functions uses for SDK integrations (PascalCase parameters,
// errors `CloudWatchLogs.<Name>` and `S3.<Name>`). Waits and retry intervals
// are zeroed. A Task whose resource has no handler fails the run.
//
// With --time-scale S (bench/sfn_polls.py) the waits are not zeroed but
// run at 1/S of their time: a Wait with Seconds waits Seconds/S, and one
// with SecondsPath becomes a Task whose local handler sleeps the path's
// value / S (aws-local-stepfunctions takes only whole seconds there).
//
// usage: node run-machine.mjs ASL_FILE INPUT_FILE [--calls FILE] [--time-scale S]
// env: AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// CWX_SFN_WAIT_MS (what every Wait state lasts, default 0)
// prints the execution's output (JSON) on stdout; exit 0 when it succeeded.
import { readFileSync, writeFileSync } from 'node:fs';
import * as logs from '@aws-sdk/client-cloudwatch-logs';
import * as s3 from '@aws-sdk/client-s3';

// aws-local-stepfunctions 3 wants Node 22's Promise.withResolvers.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
const { StateMachine } = await import('aws-local-stepfunctions');

const args = process.argv.slice(2);
const callsAt = args.indexOf('--calls');
const callsFile = callsAt >= 0 ? args.splice(callsAt, 2)[1] : null;
const scaleAt = args.indexOf('--time-scale');
const timeScale = scaleAt >= 0 ? Number(args.splice(scaleAt, 2)[1]) : 0;
if (scaleAt >= 0 && !(timeScale > 0)) {
  console.error('run-machine: --time-scale wants a positive number');
  process.exit(2);
}
const [aslFile, inputFile] = args;
if (!aslFile || !inputFile) {
  console.error('usage: node run-machine.mjs ASL_FILE INPUT_FILE [--calls FILE]');
  process.exit(2);
}
const definition = JSON.parse(readFileSync(aslFile, 'utf8'));
const input = JSON.parse(readFileSync(inputFile, 'utf8'));

const endpoint = process.env.AWS_ENDPOINT_URL;
const region = process.env.AWS_REGION || 'us-east-1';
if (!endpoint) {
  console.error('run-machine: AWS_ENDPOINT_URL must name the fake AWS');
  process.exit(2);
}
const common = { endpoint, region, maxAttempts: 1 };
const services = {
  cloudwatchlogs: {
    sdk: logs,
    client: new logs.CloudWatchLogsClient(common),
    prefix: 'CloudWatchLogs',
    camel: true, // the SDK's shapes are camelCase; Step Functions' PascalCase
  },
  s3: {
    sdk: s3,
    client: new s3.S3Client({ ...common, forcePathStyle: true }),
    prefix: 'S3',
    camel: false,
  },
};

const recase = (v, f) => {
  if (Array.isArray(v)) return v.map((x) => recase(x, f));
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[f(k)] = recase(x, f);
    return out;
  }
  return v;
};
const lower = (k) => k[0].toLowerCase() + k.slice(1);
const upper = (k) => k[0].toUpperCase() + k.slice(1);

// Step Functions names an SDK integration's errors <Service>.<Exception>;
// S3's error codes ("NoSuchKey") gain the "Exception" suffix.
const errorName = (svc, err) => {
  let name = err?.name || 'UnknownError';
  if (svc.prefix === 'S3' && !name.endsWith('Exception')) name += 'Exception';
  return `${svc.prefix}.${name}`;
};

// Every Wait state lasts CWX_SFN_WAIT_MS (default 0): a few milliseconds
// keep a poll loop from spinning while a fake task runs.
const waitMs = Number(process.env.CWX_SFN_WAIT_MS || 0);
const calls = [];
const handlers = {};
const waits = {};
const retries = {};
const missing = [];

function handlerFor(stateName, resource) {
  const m = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource || '');
  const svc = m && services[m[1]];
  const command = m && svc && svc.sdk[`${upper(m[2])}Command`];
  if (!command) {
    missing.push(`${stateName} (${resource})`);
    return null;
  }
  const op = upper(m[2]);
  return async (params) => {
    const sdkInput = svc.camel ? recase(params, lower) : params;
    calls.push({ state: stateName, op });
    try {
      const out = await svc.client.send(new command(sdkInput));
      delete out.$metadata;
      if (out.Body && typeof out.Body.transformToString === 'function')
        out.Body = await out.Body.transformToString();
      return svc.camel ? recase(out, upper) : out;
    } catch (err) {
      const e = new Error(err?.message || String(err));
      e.name = errorName(svc, err);
      calls[calls.length - 1].error = e.name;
      throw e;
    }
  };
}

function walk(states) {
  for (const [name, st] of Object.entries(states)) {
    if (st.Type === 'Task') {
      const h = handlerFor(name, st.Resource);
      if (h) handlers[name] = h;
    }
    if (st.Type === 'Wait' && timeScale && st.SecondsPath) {
      // A scaled wait: a Task that sleeps, its output its input.
      const path = st.SecondsPath.replace(/^\$\.?/, '').split('.').filter(Boolean);
      delete st.SecondsPath;
      st.Type = 'Task';
      st.Resource = 'arn:aws:lambda:us-east-1:000000000000:function:scaled-wait';
      handlers[name] = async (input) => {
        const seconds = path.reduce((v, k) => v?.[k], input);
        await new Promise((r) => setTimeout(r, (Number(seconds) * 1000) / timeScale));
        return input;
      };
    } else if (st.Type === 'Wait') {
      waits[name] = timeScale && st.Seconds !== undefined ? (st.Seconds * 1000) / timeScale : waitMs;
    }
    if (st.Retry) retries[name] = 0;
    const inner = st.ItemProcessor || st.Iterator;
    if (inner) walk(inner.States);
    for (const b of st.Branches || []) walk(b.States);
  }
}
walk(definition.States);
if (missing.length) {
  console.error(`run-machine: no handler for the Task states ${missing.join(', ')}`);
  process.exit(3);
}

const machine = new StateMachine(definition);
const now = new Date().toISOString();
const execution = machine.run(input, {
  overrides: {
    taskResourceLocalHandlers: handlers,
    waitTimeOverrides: waits,
    retryIntervalOverrides: retries,
  },
  context: {
    Execution: { Id: 'local', Name: 'local', Input: input, StartTime: now },
    State: { EnteredTime: now, Name: 'local', RetryCount: 0 },
  },
});
let code = 0;
try {
  const result = await execution.result;
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (err) {
  console.error(`run-machine: execution failed: ${err.name}: ${err.message}`);
  code = 1;
}
if (callsFile) writeFileSync(callsFile, JSON.stringify(calls) + '\n');
process.exit(code);
