import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { chromium, type Page } from 'playwright-core';

/** Screenshots of the UI tests: kept as artifacts, gitignored. */
export const ARTIFACTS = path.resolve('test-artifacts/ui');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CHROMIUM = '/usr/bin/chromium';

export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // .ci/run installs it; under CI a missing browser fails the run instead of skipping it.
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  console.warn(`\n!!!! SKIPPING web UI tests: ${CHROMIUM} is missing (apt-get install -y chromium) !!!!\n`);
}

/** Debian's Chromium with a fresh profile, and its first page; close() removes the profile. */
export async function launchChromium(options: { acceptDownloads?: boolean } = {}): Promise<{ page: Page; close(): Promise<void> }> {
  await mkdir(ARTIFACTS, { recursive: true });
  const profileDir = await mkdtemp(path.join(os.tmpdir(), 'lastmile-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1360, height: 900 }, ...options,
  });
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(15_000);
  return {
    page,
    close: async () => {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
