#!/usr/bin/env node
// Checks Swagger UI at /docs/ on each service in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), against a system that is already running (scripts/swagger-check.sh
// starts one). For each service: the page renders with every request answered by the service
// itself (anything else is blocked and fails the check), it lists the operations of the service's
// /openapi.json, and a screenshot goes to target/swagger-check/<service>.png. On customers-api it
// then authorises with an operator token and runs "Try it out" on GET /customers/{id}.
//
// Env: CUSTOMERS_PORT, ORDERS_PORT, ORCHESTRATOR_PORT (3001/3002/3000), CHROMIUM (/usr/bin/chromium),
// SWAGGER_CHECK_DIR (target/swagger-check: playwright-core's node_modules and the screenshots).
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.env.SWAGGER_CHECK_DIR || path.join(root, 'target', 'swagger-check'));
const { chromium } = createRequire(path.join(outDir, 'node_modules', 'noop.js'))('playwright-core');

const HOST = '127.0.0.1';
const port = (name, fallback) => Number(process.env[name] || fallback);
const SERVICES = [
  {
    name: 'customers-api',
    port: port('CUSTOMERS_PORT', 3001),
    title: 'Customers API',
    expect: ['POST /auth/token', 'GET /customers', 'POST /customers', 'GET /customers/{id}',
      'PUT /customers/{id}', 'DELETE /customers/{id}', 'GET /health', 'GET /metrics'],
  },
  {
    name: 'orders-api',
    port: port('ORDERS_PORT', 3002),
    title: 'Orders API',
    expect: ['GET /products', 'POST /products', 'GET /products/{id}', 'PATCH /products/{id}',
      'POST /orders', 'GET /orders', 'GET /orders/{id}', 'POST /orders/{id}/confirm',
      'POST /orders/{id}/cancel', 'GET /health', 'GET /metrics'],
  },
  {
    name: 'orchestrator',
    port: port('ORCHESTRATOR_PORT', 3000),
    title: 'Orchestrator',
    expect: ['POST /orchestrator/create-and-confirm-order', 'GET /health', 'GET /metrics'],
  },
];
const OPERATOR = { email: 'admin@b2b.local', password: 'admin123' };
const TIMEOUT = 20_000;

const failures = [];
const fail = (what) => { failures.push(what); console.log(`  FAIL ${what}`); };
const pass = (what) => console.log(`  ok   ${what}`);
const check = (cond, what) => (cond ? pass(what) : fail(what));
const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

async function specOperations(base) {
  const res = await fetch(`${base}/openapi.json`);
  if (!res.ok) throw new Error(`GET ${base}/openapi.json answered ${res.status}`);
  const spec = await res.json();
  const ops = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']) {
      if (item[method]) ops.push(`${method.toUpperCase()} ${p}`);
    }
  }
  return { spec, ops: ops.sort() };
}

async function operatorToken(base) {
  const res = await fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(OPERATOR),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.access_token) throw new Error(`POST ${base}/auth/token answered ${res.status}`);
  return body.access_token;
}

// Everything that happened on the wire (and in the console) while a page was open.
function watch(page) {
  const log = { blocked: [], failed: [], errors: [], requests: [] };
  page.on('request', (r) => log.requests.push(r));
  page.on('requestfailed', (r) => {
    if (!log.blocked.includes(r.url())) log.failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) log.failed.push(`${r.request().method()} ${r.url()}: ${r.status()}`); });
  page.on('pageerror', (e) => log.errors.push(`uncaught: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') log.errors.push(`console: ${m.text()}`); });
  return log;
}

// Checks what the page logged after `since` (a mark(log) taken earlier).
const mark = (log) => ({ blocked: log.blocked.length, failed: log.failed.length, errors: log.errors.length });
function offlineChecks(log, name, since = { blocked: 0, failed: 0, errors: 0 }) {
  const blocked = log.blocked.slice(since.blocked);
  const failed = log.failed.slice(since.failed);
  const errors = log.errors.slice(since.errors);
  check(blocked.length === 0,
    `${name}: no request left the machine${blocked.length ? ` (blocked: ${blocked.join(', ')})` : ''}`);
  check(failed.length === 0, `${name}: every request succeeded${failed.length ? ` (failed: ${failed.join('; ')})` : ''}`);
  check(errors.length === 0, `${name}: no script or console error${errors.length ? ` (${errors.join('; ')})` : ''}`);
}

// The operations Swagger UI rendered, as "METHOD /path".
async function renderedOperations(page) {
  return (await page.locator('.opblock').evaluateAll((blocks) => blocks.map((b) => {
    const method = b.querySelector('.opblock-summary-method')?.textContent.trim() ?? '?';
    const pathEl = b.querySelector('.opblock-summary-path');
    const p = pathEl?.getAttribute('data-path') ?? pathEl?.textContent.replace(/\u200b/g, '').trim() ?? '?';
    return `${method.toUpperCase()} ${p}`;
  }))).sort();
}

function operation(page, method, p) {
  return page.locator(`.opblock.opblock-${method.toLowerCase()}`)
    .filter({ has: page.locator(`.opblock-summary-path[data-path="${p}"]`) });
}

async function checkPage(page, svc, log) {
  const base = `http://${HOST}:${svc.port}`;
  const { spec, ops } = await specOperations(base);
  console.log(`${svc.name} (${base}/docs/)`);

  const res = await page.goto(`${base}/docs/`, { waitUntil: 'load' });
  check(res?.status() === 200, `${svc.name}: /docs/ answered ${res?.status()}`);
  await page.locator('.opblock').first().waitFor({ timeout: TIMEOUT });
  await page.waitForLoadState('networkidle');

  const title = (await page.locator('.info .title').first().textContent())?.trim() ?? '';
  check(title.includes(svc.title) && title.includes(spec.info.title),
    `${svc.name}: title shows "${spec.info.title}" (page: "${title}")`);
  const errorsBox = await page.locator('.errors-wrapper').count();
  check(errorsBox === 0, `${svc.name}: Swagger UI shows no spec errors`);

  const shown = await renderedOperations(page);
  const missing = svc.expect.filter((op) => !shown.includes(op));
  check(missing.length === 0,
    `${svc.name}: lists ${svc.expect.join(', ')}${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`);
  check(sameSet(shown, ops),
    `${svc.name}: lists exactly the ${ops.length} operations of /openapi.json` +
      (sameSet(shown, ops) ? '' : ` (page: ${shown.join(', ')}; spec: ${ops.join(', ')})`));
  const schemes = Object.keys(spec.components?.securitySchemes ?? {});
  check(schemes.includes('operator_jwt') && (await page.locator('.scheme-container .btn.authorize').count()) === 1,
    `${svc.name}: Authorize button present, operator_jwt declared (schemes: ${schemes.join(', ')})`);

  const shot = path.join(outDir, `${svc.name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot ${path.relative(root, shot)}`);
  offlineChecks(log, svc.name);
  return base;
}

async function tryItOut(page, base, log) {
  const name = 'customers-api try-it-out';
  const since = mark(log);
  const token = await operatorToken(base);

  // Authorize: operator_jwt gets the token.
  await page.locator('.scheme-container .btn.authorize').click();
  const dialog = page.locator('.dialog-ux .modal-ux');
  await dialog.waitFor({ timeout: TIMEOUT });
  const scheme = dialog.locator('.auth-container').filter({ hasText: 'operator_jwt' });
  check((await scheme.count()) === 1, `${name}: Authorize dialog offers operator_jwt`);
  await scheme.locator('input').fill(token);
  await scheme.locator('button.authorize').click();
  await scheme.locator('button', { hasText: 'Logout' }).waitFor({ timeout: TIMEOUT });
  check((await scheme.getByText('Authorized', { exact: true }).count()) > 0, `${name}: operator_jwt shows Authorized`);
  await scheme.locator('button.btn-done').click();
  await dialog.waitFor({ state: 'detached', timeout: TIMEOUT });

  // GET /customers/{id}: Try it out, id 1, Execute.
  const op = operation(page, 'GET', '/customers/{id}');
  check((await op.count()) === 1, `${name}: GET /customers/{id} is on the page once`);
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  await op.locator('tr[data-param-name="id"] input').fill('1');
  const sent = page.waitForRequest((r) => r.url() === `${base}/customers/1` && r.method() === 'GET', { timeout: TIMEOUT });
  await op.locator('button.execute').click();
  const request = await sent;
  check(request.headers()['authorization'] === `Bearer ${token}`,
    `${name}: request to ${base}/customers/1 carried the operator token`);

  const live = op.locator('.live-responses-table');
  await live.waitFor({ timeout: TIMEOUT });
  const row = live.locator('tbody tr.response').first(); // the header row says "Code"
  const status = (await row.locator('.response-col_status').textContent())?.trim();
  const body = (await row.locator('.response-col_description').textContent()) ?? '';
  check(status === '200', `${name}: live response code ${status} (want 200)`);
  check(body.includes('ACME Corp'), `${name}: live response body shows "ACME Corp"`);
  const curl = (await op.locator('.curl-command').textContent()) ?? '';
  check(curl.includes(`${base}/customers/1`) && curl.includes('Authorization: Bearer'),
    `${name}: curl shown targets ${base}/customers/1 with Authorization: Bearer`);
  offlineChecks(log, name, since);

  const shot = path.join(outDir, 'customers-api-try-it-out.png');
  await op.screenshot({ path: shot });
  console.log(`  screenshot ${path.relative(root, shot)}`);
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'swagger-check-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    serviceWorkers: 'block',
  });
  const logs = new Map(); // page -> watch(page)
  const stray = []; // blocked requests of no page of ours
  try {
    // Offline: only the machine itself answers; anything else is aborted and recorded.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      const local = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
      if (local || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
      let page;
      try { page = route.request().frame().page(); } catch { /* a worker's request */ }
      (logs.get(page)?.blocked ?? stray).push(url.href);
      return route.abort('blockedbyclient');
    });
    for (const svc of SERVICES) {
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT);
      const log = watch(page);
      logs.set(page, log);
      try {
        const base = await checkPage(page, svc, log);
        if (svc.name === 'customers-api') await tryItOut(page, base, log);
      } catch (e) {
        fail(`${svc.name}: ${e.message.split('\n')[0]}`);
        await page.screenshot({ path: path.join(outDir, `${svc.name}-failure.png`), fullPage: true }).catch(() => {});
      }
      await page.close();
    }
    check(stray.length === 0, `no other request left the browser${stray.length ? ` (blocked: ${stray.join(', ')})` : ''}`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  if (failures.length) {
    console.log(`\nswagger-check: ${failures.length} failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nswagger-check: all passed');
}

main().catch((e) => {
  console.error(`swagger-check: ${e.stack || e}`);
  process.exit(1);
});
