/**
 * The README's recovery drill names only what this project provides: each P0/P1 situation of the
 * two runbooks is there with its four steps in order (see it, stop the damage, recover, verify),
 * and every `ops` command in it exists with the options and arguments written (mandatory options
 * included, read from the CLI itself: `ops commands`), every HTTP route and query parameter is
 * one the API serves (its OpenAPI route table), every `npm run` script is in package.json, and
 * every setting or code in capitals is a configuration key, an error code, a key purpose or a
 * schema value. A drill that drifts from the code fails here; the e2e tests run the commands.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ZodObject, ZodRawShape } from 'zod';
import { routes } from '../../src/api/openapi-routes';
import { secretPurposes } from '../../src/keys/keyring';
import { ErrorCode } from '../../src/workflows/vocabulary';

const root = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const drill = readme.slice(
  readme.indexOf('\n## Recovery drill'),
  readme.indexOf('\n## ', readme.indexOf('\n## Recovery drill') + 1),
);

interface CliCommand {
  name: string;
  arguments: { name: string; required: boolean }[];
  options: { long: string; mandatory: boolean; takesValue: boolean }[];
  commands: CliCommand[];
}
const cli = JSON.parse(
  execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'ops.ts'), 'commands'], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent' },
  }),
) as CliCommand;

/** The drill's situations, each with its text. */
function situations(): { title: string; text: string }[] {
  const heads = [...drill.matchAll(/^\*\*(.+?)\.\*\*$/gm)];
  return heads.map((head, i) => ({
    title: head[1],
    text: drill.slice(head.index! + head[0].length, heads[i + 1]?.index ?? drill.length),
  }));
}

/** The code spans of `text`, in order, with their whitespace (line breaks) collapsed. */
const spans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\s+/g, ' ').trim());

const words = (command: string) => command.match(/"[^"]*"|'[^']*'|\S+/g) ?? [];

/** What is wrong with an `ops ...` command line; the command it names, for the options mentioned after it. */
function checkOps(line: string): { problems: string[]; command?: CliCommand } {
  const tokens = words(line).slice(1);
  let command = cli;
  for (let sub = command.commands.find((c) => c.name === tokens[0]); sub;) {
    command = sub;
    tokens.shift();
    sub = command.commands.find((c) => c.name === tokens[0]);
  }
  if (command.commands.length > 0) return { problems: [`${line}: no such command`] };
  const problems: string[] = [];
  const given = new Set<string>();
  const positional: string[] = [];
  while (tokens.length) {
    const token = tokens.shift()!;
    if (!token.startsWith('--')) {
      positional.push(token);
      continue;
    }
    const option = [...command.options, ...cli.options].find((o) => o.long === token);
    if (!option) problems.push(`${line}: ${command.name} has no option ${token}`);
    else if (option.takesValue && (tokens.length === 0 || tokens[0].startsWith('--')))
      problems.push(`${line}: ${token} needs a value`);
    else if (option.takesValue) tokens.shift();
    given.add(token);
  }
  for (const option of command.options)
    if (option.mandatory && !given.has(option.long)) problems.push(`${line}: ${option.long} is required`);
  const required = command.arguments.filter((a) => a.required).length;
  if (positional.length < required || positional.length > command.arguments.length)
    problems.push(`${line}: takes ${command.arguments.map((a) => `<${a.name}>`).join(' ')}`);
  return { problems, command };
}

function checkRoute(span: string): string[] {
  const parts = span.match(/^(GET|POST|PUT|PATCH|DELETE) (\S+)$/);
  if (!parts) return [`${span}: not a route alone`];
  const [, method, target] = parts;
  const [route, query] = target.split('?');
  const doc = routes[`${method} ${route}`];
  if (!doc) return [`${span}: the API has no such route`];
  const known = Object.keys((doc.query as ZodObject<ZodRawShape> | undefined)?.shape ?? {});
  return [...new URLSearchParams(query ?? '').keys()]
    .filter((name) => !known.includes(name))
    .map((name) => `${span}: ${route} takes no ?${name}`);
}

const config = readFileSync(path.join(root, 'src', 'platform', 'config.ts'), 'utf8');
const schema = readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
const scripts = Object.keys(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).scripts);

function checkCapitals(span: string): string[] {
  const known =
    new RegExp(`^\\s+${span}:`, 'm').test(config) ||
    Object.values(ErrorCode).includes(span as never) ||
    (secretPurposes as readonly string[]).includes(span) ||
    new RegExp(`^\\s+${span}\\s*$`, 'm').test(schema);
  return known ? [] : [`${span}: neither a setting, an error code, a key purpose nor a schema value`];
}

test('every P0/P1 situation of both runbooks has its drill, in four steps in order', () => {
  expect(situations().map((s) => s.title)).toEqual([
    'Payments failing (P0)',
    'Site down (P0)',
    'Data corruption or data loss (P0)',
    'Webhook failures (P1)',
    'Admin dashboard (API) down (P1)',
    'Checkout issues (P1)',
  ]);
  for (const { title, text } of situations()) {
    const steps = [...text.matchAll(/^(\d)\. ([^:]+):/gm)].map((m) => `${m[1]}. ${m[2]}`);
    expect([title, steps]).toEqual([title, ['1. See', '2. Stop the damage', '3. Recover', '4. Verify']]);
    expect([title, spans(text).some((s) => s.startsWith('ops '))]).toEqual([title, true]);
  }
});

test('every command, option, route, script and setting the drill names exists', () => {
  const problems: string[] = [];
  let checked = 0;
  for (const { text } of situations()) {
    for (const step of text.split(/^\d\. /m)) {
      let last: CliCommand | undefined;
      for (const span of spans(step)) {
        if (span.startsWith('ops ')) {
          const result = checkOps(span);
          problems.push(...result.problems);
          last = result.command;
        } else if (/^--[a-z-]+/.test(span)) {
          const option = span.split(' ')[0];
          if (!last?.options.some((o) => o.long === option))
            problems.push(`${span}: not an option of the command before it (${last?.name ?? 'none'})`);
        } else if (/^(GET|POST|PUT|PATCH|DELETE) \//.test(span)) problems.push(...checkRoute(span));
        else if (span.startsWith('npm run ')) {
          if (!scripts.includes(span.split(' ')[2])) problems.push(`${span}: no such npm script`);
        } else if (/^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/.test(span)) problems.push(...checkCapitals(span));
        else continue;
        checked++;
      }
    }
  }
  expect(problems).toEqual([]);
  expect(checked).toBeGreaterThan(60);
});

test('the signals the drill names are the workflows’ own', () => {
  const named = [...drill.matchAll(/signals\s+`(\w+)` \/ `(\w+)`/g)].flatMap((m) => [m[1], m[2]]);
  expect(named).toEqual(['approveRefund', 'rejectRefund']);
  const messages = readFileSync(path.join(root, 'src', 'workflows', 'refund', 'messages.ts'), 'utf8');
  for (const signal of named) expect(messages).toContain(`defineSignal<[RefundDecision]>('${signal}')`);
});
