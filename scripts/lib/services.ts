/**
 * Starting the real parts the system needs on a developer's machine or in the tests: the
 * Temporal CLI's dev server and stripe-mock, both installed with `go install` into a cache
 * (~/.cache/durable-commerce/bin) the first time, and a loopback SMTP listener.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { searchAttributes } from '../../src/workflows/search-attributes';
import { startUniqueIdHop } from './stripe-mock-ids';

export const cacheDir = process.env.DURABLE_COMMERCE_CACHE ?? path.join(os.homedir(), '.cache', 'durable-commerce');
const binDir = path.join(cacheDir, 'bin');

const goModules = {
  // Later tags carry a `replace` directive that breaks `go install`.
  temporal: 'github.com/temporalio/cli/cmd/temporal@v1.5.1',
  'stripe-mock': 'github.com/stripe/stripe-mock@latest',
} as const;
export type Tool = keyof typeof goModules;

/** Path of `tool`: on PATH, else in the cache, else built into the cache now (minutes, once). */
export function ensureTool(tool: Tool, log: (line: string) => void = console.log): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const cached = path.join(binDir, tool);
  if (existsSync(cached)) return cached;
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error(
      `${tool} is not installed and Go is not available to build it; install ${goModules[tool]} yourself`,
    );
  }
  log(`building ${tool} with go install ${goModules[tool]} (first run only, this takes a few minutes)...`);
  mkdirSync(binDir, { recursive: true });
  const build = spawnSync('go', ['install', goModules[tool]], {
    env: { ...process.env, GOBIN: binDir },
    stdio: 'inherit',
  });
  if (build.status !== 0 || !existsSync(cached)) throw new Error(`go install ${goModules[tool]} failed`);
  return cached;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, host);
  });
}

/** Resolves once something accepts connections on `port`; rejects if `child` exits first or time runs out. */
export async function waitForPort(
  port: number,
  what: string,
  child?: ChildProcess,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  child?.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${what} exited with code ${exited} before listening on ${port}`);
    if (await isListening(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what} did not listen on port ${port} within ${timeoutMs / 1000}s`);
}

function startLogged(command: string, args: string[], logFile: string): ChildProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  return spawn(command, args, { stdio: ['ignore', out, out], detached: false });
}

export interface TemporalDevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
}

/** `temporal server start-dev` with the custom search attributes registered. */
export async function startTemporalDevServer(options: {
  port: number;
  uiPort?: number;
  dbFile?: string;
  logFile: string;
  /** Where the Web UI decodes encrypted payloads (our API's /codec). */
  codecEndpoint?: string;
  /** SQLite pragmas for the database file (`--sqlite-pragma name=value`). */
  sqlitePragmas?: Record<string, string>;
}): Promise<TemporalDevServer> {
  const temporal = ensureTool('temporal');
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'warn'];
  // An activity the workflow schedules on its own task queue starts on the worker at once, without
  // a round trip through matching (as on Temporal Cloud): about 100 ms off every checkout here.
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  if (options.uiPort && options.codecEndpoint) args.push('--ui-codec-endpoint', options.codecEndpoint);
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const [name, value] of Object.entries(options.sqlitePragmas ?? {}))
    args.push('--sqlite-pragma', `${name}=${value}`);
  // The CLI names the types as the SDK does, capitalised: KEYWORD is Keyword, INT is Int.
  for (const { name, type } of Object.values(searchAttributes)) {
    args.push('--search-attribute', `${name}=${type.charAt(0)}${type.slice(1).toLowerCase()}`);
  }
  const child = startLogged(temporal, args, options.logFile);
  await waitForPort(options.port, 'Temporal dev server', child);
  if (options.uiPort) await waitForPort(options.uiPort, 'Temporal Web UI', child);
  return {
    address: `127.0.0.1:${options.port}`,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    process: child,
  };
}

export async function startStripeMock(options: {
  port: number;
  logFile: string;
}): Promise<{ baseUrl: string; process: ChildProcess }> {
  const stripeMock = ensureTool('stripe-mock');
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const child = startLogged(
    stripeMock,
    ['-http-addr', `127.0.0.1:${httpPort}`, '-https-addr', `127.0.0.1:${httpsPort}`],
    options.logFile,
  );
  await waitForPort(httpPort, 'stripe-mock', child);
  // On the port asked for: a hop that gives every PaymentIntent an id of its own, as Stripe does.
  const hop = await startUniqueIdHop({ port: options.port, target: `http://127.0.0.1:${httpPort}` });
  child.once('exit', () => hop.close());
  return { baseUrl: `http://127.0.0.1:${options.port}`, process: child };
}

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  messageId?: string;
  /** The SMTP session (connection) it came on: a pooled sender sends many on one. */
  sessionId: string;
}

/**
 * A real SMTP listener on loopback that keeps what arrives. `hold` lets a test keep a message
 * "in flight" (the DATA phase does not complete) until it chooses to release it;
 * `dropConnections` closes every open connection from the server's side, as a relay restarting does.
 */
export async function startSmtpListener(port = 0): Promise<{
  url: string;
  port: number;
  messages: ReceivedMail[];
  onMessage: (listener: (mail: ReceivedMail) => void) => void;
  hold: () => { started: Promise<void>; release: () => void };
  dropConnections: () => void;
  close: () => Promise<void>;
}> {
  const messages: ReceivedMail[] = [];
  const listeners: ((mail: ReceivedMail) => void)[] = [];
  let held: { notifyStarted: () => void; released: Promise<void> } | undefined;
  const closedSessions = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onClose(session) {
      closedSessions.add(session.id);
    },
    onData(stream, session, callback) {
      const gate = held;
      held = undefined;
      gate?.notifyStarted();
      simpleParser(stream)
        .then(async (parsed) => {
          if (gate) await gate.released;
          // The sender went away before we accepted the message: it was never delivered.
          if (closedSessions.has(session.id)) return callback(new Error('client disconnected'));
          const mail: ReceivedMail = {
            from: parsed.from?.text ?? '',
            to: (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).flatMap((a) =>
              a.value.map((v) => v.address ?? ''),
            ),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            messageId: parsed.messageId,
            sessionId: session.id,
          };
          messages.push(mail);
          listeners.forEach((listener) => listener(mail));
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  // A sender killed mid-conversation resets its connection; that is its problem, not ours.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${actualPort}`,
    port: actualPort,
    messages,
    onMessage: (listener) => listeners.push(listener),
    hold: () => {
      let release!: () => void;
      let notifyStarted!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const started = new Promise<void>((resolve) => (notifyStarted = resolve));
      held = { notifyStarted, released };
      return { started, release };
    },
    dropConnections: () => {
      // smtp-server keeps its open connections in `connections`, each with close() (not in its types).
      const { connections } = server as unknown as {
        connections: Set<{ send: (code: number, text: string) => void; close: () => void }>;
      };
      for (const connection of [...connections]) {
        connection.send(421, 'Service closing transmission channel');
        connection.close();
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
