// Renders src/client/public/icon.svg to the PNG sizes the web app manifest lists, with
// Debian's Chromium (so no image library is needed):  npx tsx scripts/make-icons.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const svg = readFileSync('src/client/public/icon.svg', 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  for (const [size, padding] of [[192, 0], [512, 0], [512, 56]] as const) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    // The maskable variant keeps the mark inside the 80% safe zone on a full-bleed background.
    const body = padding
      ? `<div style="width:${size}px;height:${size}px;background:#3b5bdb;display:grid;place-items:center"><div style="width:${size - 2 * padding}px;height:${size - 2 * padding}px">${svg}</div></div>`
      : svg;
    await page.setContent(`<style>html,body{margin:0}svg{width:100%;height:100%;display:block}</style>${body}`);
    writeFileSync(`src/client/public/icon-${size}${padding ? '-maskable' : ''}.png`, await page.screenshot({ omitBackground: true }));
    await page.close();
  }
} finally {
  await browser.close();
}
