import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { CHROMIUM_PATH, type Chromium, launchChromium, processGroupAlive } from '../helpers/browser.js';
import { eventually } from '../helpers/eventually.js';
import { type HttpApp, call, startHttpApp } from '../http/http-app.js';

/**
 * The memory console (`/ui`) in a real headless Chromium, against the standalone server's app in
 * process on an in-memory PGlite: what a person debugging an agent does with it, with the API key
 * off and on. Every page is written to test-results/console/<name>.png for a look after the run.
 */

const SCREENSHOTS = path.resolve('test-results/console');
const API_KEY = 'console-test-key';
/** One sentence naming a person, a dog and a city: the proper-noun heuristic makes each an entity. */
const SENTENCE = 'Alice Moreau adopted a greyhound named Biscuit in Lyon.';
const QUERY = 'Who adopted a greyhound?';
/** Playwright's waits end on their own; this only bounds a page that never shows what it should. */
const WAIT_MS = 20_000;

/** Chromium starts while the first app boots: two processes, two cores. */
let chromiumStarting: Promise<Chromium>;

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  chromiumStarting = launchChromium();
  // A failed launch is reported where it is awaited, by the first page, not as an unhandled rejection.
  chromiumStarting.catch(() => undefined);
});

afterAll(async () => {
  // Only when a test failed before the last one closed it: never leave Chromium running.
  const started = await chromiumStarting.catch(() => undefined);
  if (started?.browser.isConnected()) await started.close();
});

async function newPage(viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await (await chromiumStarting).browser.newContext({ viewport });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  uncaughtErrors.set(page, errors);
  return { context, page };
}

/** What each page threw: an error would otherwise pass unseen while the DOM still looked right. */
const uncaughtErrors = new WeakMap<Page, Error[]>();

function pageErrors(page: Page): string[] {
  return (uncaughtErrors.get(page) ?? []).map((error) => error.message);
}

/** Waits for the page's h1 to read `name`, and checks it is the page's only h1 (the contract). */
async function expectHeading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: typeof name === 'string' }).waitFor();
  expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

function bankNav(page: Page, name: string): Locator {
  return page.getByRole('link', { name, exact: true });
}

function rowWith(within: Page | Locator, text: string): Locator {
  return within.getByRole('row').filter({ hasText: text });
}

/**
 * The core of the browser test, run with the key off and on: create a bank from the
 * Banks page, retain a sentence from the Memories tab and see its row, recall it with every arm's
 * rank shown, and open one of its entities.
 */
async function createRetainRecallOpenEntity(page: Page, bankId: string, shot: (name: string) => Promise<void>): Promise<void> {
  await expectHeading(page, 'Banks');
  await page.getByLabel('Bank ID', { exact: true }).fill(bankId);
  await page.getByRole('button', { name: 'Create bank' }).click();
  await bankRow(page, bankId).getByRole('link', { name: bankId, exact: true }).click();
  await expectHeading(page, bankId);
  expect(await bankNav(page, 'Memories').getAttribute('aria-current')).toBe('page');
  await shot('bank');

  // Memories is the bank's default tab.
  await page.getByLabel('Content', { exact: true }).fill(SENTENCE);
  await page.getByRole('button', { name: 'Retain', exact: true }).click();
  await rowWith(page, SENTENCE).first().waitFor();
  await shot('memories');

  await bankNav(page, 'Recall').click();
  await page.getByLabel('Query', { exact: true }).fill(QUERY);
  await page.getByRole('button', { name: 'Recall', exact: true }).click();
  const hit = rowWith(page.getByRole('table').filter({ hasText: SENTENCE }), SENTENCE).first();
  await hit.waitFor();
  // The bank holds this one memory, so every arm that found it ranks it first ("#1").
  expect(await hit.textContent()).toMatch(/#1\b/);
  await page.getByRole('img', { name: /^semantic [\d.]+ ms$/ }).waitFor();
  await shot('recall');

  await bankNav(page, 'Entities').click();
  await page.getByRole('link', { name: 'Alice Moreau', exact: true }).click();
  await expectHeading(page, 'Alice Moreau');
  // An entity's page shows what mentions it.
  await page.getByText(SENTENCE).first().waitFor();
  await shot('entity');

  // Back on the list, the bank's stats count what was just retained: one memory, three entities.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Banks', exact: true }).click();
  await expectHeading(page, 'Banks');
  await expectBankStat(page, bankId, 'Memories', '1');
  await expectBankStat(page, bankId, 'Entities', '3');
}

function bankRow(page: Page, bankId: string): Locator {
  return page
    .getByRole('table', { name: 'Banks' })
    .getByRole('row')
    .filter({ has: page.getByRole('link', { name: bankId, exact: true }) });
}

/** Waits for the bank's cell under the column headed `column` to read `value` (counts load after the list). */
async function expectBankStat(page: Page, bankId: string, column: string, value: string): Promise<void> {
  const row = bankRow(page, bankId);
  await row.waitFor();
  const headers = await page.getByRole('table', { name: 'Banks' }).getByRole('columnheader').allTextContents();
  const index = headers.map((text) => text.trim()).indexOf(column);
  expect(index).toBeGreaterThanOrEqual(0);
  // A row's first cell may be a row header (th): count th and td alike.
  await row
    .locator('th, td')
    .nth(index)
    .filter({ hasText: new RegExp(`^\\s*${value}\\s*$`) })
    .waitFor();
}

describe('memory console with no API key', () => {
  const bankId = 'console-open';
  let app: HttpApp;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => screenshot(page, name);

  beforeAll(async () => {
    app = await startHttpApp({ DATABASE_URL: `pglite://memory/console-open-${process.pid}`, MEMORY_CONSOLE_ENABLED: 'true' });
    ({ context, page } = await newPage());
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it('loads /ui on the Banks page, creates a bank, retains, recalls the row with its arm ranks and opens an entity', async () => {
    await page.goto(`${app.url}/ui`);
    await expectHeading(page, 'Banks');
    await shot('banks');
    await createRetainRecallOpenEntity(page, bankId, shot);
    expect(pageErrors(page)).toEqual([]);
  });

  it("opens a memory's detail page from its row", async () => {
    await page.goto(`${app.url}/ui/#/banks/${bankId}/memories`);
    await page.getByRole('link', { name: SENTENCE }).first().click();
    await expectHeading(page, 'Memory');
    await page.getByText(SENTENCE).first().waitFor();
    await page.getByRole('heading', { name: 'Sources' }).waitFor();
    await page.getByRole('heading', { name: 'History' }).waitFor();
    await shot('memory');
  });

  it('draws the entity graph: a node in the drawing and a node in its list of links each open that entity', async () => {
    await page.goto(`${app.url}/ui/#/banks/${bankId}`);
    await bankNav(page, 'Graph').click();
    await expectHeading(page, 'Entity graph');
    // The drawing is one image to assistive technology (the list below is the keyboard's way), so
    // the test finds a node as the mouse does: the circle drawn for the entity labelled Lyon.
    const drawnNode = page.locator('svg [data-entity-id]').filter({ hasText: 'Lyon' }).locator('circle');
    await drawnNode.waitFor();
    await shot('graph');
    await drawnNode.click();
    await expectHeading(page, 'Lyon');

    await page.goBack();
    await expectHeading(page, 'Entity graph');
    await page.getByRole('link', { name: 'Biscuit', exact: true }).click();
    await expectHeading(page, 'Biscuit');
  });

  it("lists the bank's operations, an async retain among them with its state", async () => {
    const queued = await call(app.url, 'POST', `/v1/default/banks/${bankId}/memories`, {
      items: [{ content: 'Biscuit sleeps on the sofa.' }],
      async: true,
    });
    expect(queued.status).toBe(200);
    const operationId: string = queued.body.operation_id;
    await eventually(
      () => call(app.url, 'GET', `/v1/default/banks/${bankId}/operations/${operationId}`),
      (response) => response.body?.status === 'completed',
    );
    await page.goto(`${app.url}/ui/#/banks/${bankId}`);
    await bankNav(page, 'Operations').click();
    await expectHeading(page, 'Operations');
    const row = rowWith(page, operationId.slice(0, 8));
    await row.waitFor();
    expect(await row.textContent()).toContain('completed');
    await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
    await shot('operations');
  });

  it('shows the other tabs of the bank under its name: documents, observations, mental models; and reflect', async () => {
    for (const [tab, route] of [
      ['Documents', 'documents'],
      ['Observations', 'observations'],
      ['Mental models', 'mental-models'],
    ] as const) {
      await page.goto(`${app.url}/ui/#/banks/${bankId}`);
      await bankNav(page, tab).click();
      await page.waitForURL((url) => url.hash.endsWith(`/${route}`));
      await expectHeading(page, bankId);
      expect(await bankNav(page, tab).getAttribute('aria-current')).toBe('page');
      await shot(route);
    }
    await bankNav(page, 'Reflect').click();
    await expectHeading(page, 'Reflect');
    await page.getByLabel('Query', { exact: true }).waitFor();
    await shot('reflect');
    expect(pageErrors(page)).toEqual([]);
  });

  it('fits a phone: the bank page at 390×844 has no horizontal overflow', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${app.url}/ui/#/banks/${bankId}`);
    await expectHeading(page, bankId);
    await rowWith(page, SENTENCE).first().waitFor();
    // Runs in the page; the test's own types have no DOM.
    const { scrollWidth, innerWidth } = await page.evaluate(() => {
      const { document, innerWidth } = globalThis as any;
      return { scrollWidth: document.documentElement.scrollWidth as number, innerWidth: innerWidth as number };
    });
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await shot('bank-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('lets the keyboard reach the navigation: Tab focuses a nav link and Enter follows it', async () => {
    await page.goto(`${app.url}/ui/#/banks/${bankId}/entities`);
    await expectHeading(page, bankId);
    const focusedNavLink = page.locator('nav a:focus');
    let href: string | null = null;
    // The first stops may be a skip link or the brand; a nav link must come within a few.
    for (let presses = 0; presses < 10 && !href; presses++) {
      await page.keyboard.press('Tab');
      if ((await focusedNavLink.count()) === 1) href = await focusedNavLink.getAttribute('href');
    }
    expect(href).toMatch(/^#\//);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.hash === href);
    expect(pageErrors(page)).toEqual([]);
  });
});

describe('memory console behind an API key', () => {
  const bankId = 'console-keyed';
  let app: HttpApp;
  let context: BrowserContext;
  let page: Page;
  const shot = (name: string) => screenshot(page, `keyed-${name}`);

  beforeAll(async () => {
    app = await startHttpApp({
      DATABASE_URL: `pglite://memory/console-keyed-${process.pid}`,
      MEMORY_CONSOLE_ENABLED: 'true',
      MEMORY_API_KEY: API_KEY,
    });
    ({ context, page } = await newPage());
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await app?.close();
  });

  it('serves the shell without the key, but not the data', async () => {
    expect((await fetch(`${app.url}/ui`)).status).toBe(200);
    expect((await fetch(`${app.url}/v1/default/banks`)).status).toBe(401);
  });

  it('asks for the key, refuses a wrong one, and with the right one shows the banks', async () => {
    await page.goto(`${app.url}/ui`);
    const keyInput = page.getByLabel('API key', { exact: true });
    await keyInput.waitFor();
    expect(await page.getByRole('heading', { level: 1, name: 'Banks' }).count()).toBe(0);
    await shot('api-key');

    await keyInput.fill('not-the-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByRole('alert').filter({ hasText: 'Invalid API key' }).waitFor();
    await shot('api-key-invalid');

    await keyInput.fill(API_KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await expectHeading(page, 'Banks');
    await shot('banks');
  });

  it('creates a bank, retains, recalls the row with its arm ranks and opens an entity', async () => {
    await createRetainRecallOpenEntity(page, bankId, shot);
    expect(pageErrors(page)).toEqual([]);
  });

  it('keeps the key for the tab: after a reload the banks are listed without asking again', async () => {
    await page.reload();
    // The bank's row is data, fetched with the key: without one the form would replace the list.
    await bankRow(page, bankId).waitFor();
    expect(await page.getByLabel('API key', { exact: true }).count()).toBe(0);
  });

  it('forgets the key on request: the next page asks for it again', async () => {
    await page.getByRole('button', { name: 'Forget API key' }).click();
    await page.getByLabel('API key', { exact: true }).waitFor();
    expect(await bankRow(page, bankId).count()).toBe(0);
  });

  it('asks for the key as the recall playground opens, before a query is typed, then names the bank and its size', async () => {
    await page.goto(`${app.url}/ui#/banks/${bankId}/recall`);
    const keyInput = page.getByLabel('API key', { exact: true });
    await keyInput.waitFor();
    await keyInput.fill(API_KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await expectHeading(page, 'Recall');
    await page.getByText(new RegExp(`${bankId} \\(\\d+ memor(y|ies)\\)`)).waitFor();
  });
});

describe('scripts/ensure-chromium.mjs (run before the build by npm test and CI)', () => {
  const ensure = (env: Record<string, string | undefined>) =>
    spawnSync(process.execPath, ['scripts/ensure-chromium.mjs'], { env: { ...process.env, ...env }, encoding: 'utf8' });

  it('passes at once when the browser is there', () => {
    const { status, stdout } = ensure({ CHROMIUM_PATH: CHROMIUM_PATH });
    expect(status).toBe(0);
    expect(stdout).not.toContain('installing');
  });

  it('stops with a message naming CHROMIUM_PATH when it points at no executable, installing nothing', () => {
    const missing = path.join(SCREENSHOTS, 'no-such-chromium');
    const { status, stderr } = ensure({ CHROMIUM_PATH: missing });
    expect(status).toBe(1);
    expect(stderr).toContain(`CHROMIUM_PATH=${missing} is not an executable file`);
  });
});

describe('Chromium', () => {
  it('closes, leaving none of its processes running', async () => {
    // Playwright starts it as the leader of its own group, so the group is the browser and its children.
    const chromium = await chromiumStarting;
    expect(processGroupAlive(chromium.process.pid!)).toBe(true);
    const closed = await chromium.close();
    expect(closed.pid).toBe(chromium.process.pid);
    expect(chromium.process.exitCode !== null || chromium.process.signalCode !== null).toBe(true);
    expect(chromium.browser.isConnected()).toBe(false);
    // The zygote and renderers end after the browser process; wait for the whole group.
    await eventually(
      () => processGroupAlive(closed.pid),
      (alive) => !alive,
    );
  });
});
