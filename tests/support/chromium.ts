import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, as every browser test starts it: no sandbox (root), no GPU, and no
 * background networking, component updates or sync (the machine's closed network refuses them).
 *
 * @example
 * const browser = await launchChromium();
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
}
